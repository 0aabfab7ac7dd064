package dev.forkd.server.metrics;

import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What the gauges read at scrape time, as plain values: the metrics know the cores only through
 * these. Each supplier must be cheap and must not block for long (a scrape waits for it).
 *
 * @param processesByState the process records by lower-case state name
 * @param agents the agents connected now
 * @param queues every queue's depth and items in flight
 * @param locks every lock and semaphore with callers waiting on it
 * @param outputUnwritten bytes of child output not written to the output files (queue or budget full)
 */
public record MetricSources(
        Supplier<Map<String, Integer>> processesByState,
        Supplier<List<Agent>> agents,
        Supplier<List<Queue>> queues,
        Supplier<List<Lock>> locks,
        LongSupplier outputUnwritten) {

    /** Sources of a server without output files. */
    public MetricSources(Supplier<Map<String, Integer>> processesByState, Supplier<List<Agent>> agents,
            Supplier<List<Queue>> queues, Supplier<List<Lock>> locks) {
        this(processesByState, agents, queues, locks, () -> 0);
    }

    /** @param pid the agent's OS process, whose resident memory is read from /proc */
    public record Agent(String id, int pid) {}

    /** @param name the queue's name, or its id when it has none */
    public record Queue(String name, long items, long inFlight) {}

    public record Lock(String name, int waiters) {}

    /** Nothing to read: for tests of the counters alone. */
    public static final MetricSources NONE = new MetricSources(Map::of, List::of, List::of, List::of);
}
