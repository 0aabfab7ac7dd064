package dev.forkd.bench;

/** One side of a row: a figure over several runs, or why there is none. */
public sealed interface Outcome {

    record Measured(Summary summary) implements Outcome {}

    /** The thing to measure does not exist here (a service not yet served, a peer tool missing). */
    record NotAvailable(String reason) implements Outcome {}

    /** It exists but the measurement broke. */
    record Failed(String reason) implements Outcome {}
}
