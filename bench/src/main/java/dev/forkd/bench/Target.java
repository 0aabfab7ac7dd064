package dev.forkd.bench;

/** What DESIGN.md §8 asks of a figure: a ratio to a peer, or an absolute limit, or nothing. */
public sealed interface Target {

    /** forkd's figure must be at least {@code ratio} times as good as the peer's. */
    record Ratio(double ratio) implements Target {}

    /** forkd's figure must be at or past {@code limit} (its unit), in the row's direction. */
    record Limit(double limit) implements Target {}

    /** No target: reported for the record. */
    record None() implements Target {}

    static Target ratio(double r) {
        return new Ratio(r);
    }

    static Target limit(double l) {
        return new Limit(l);
    }

    static Target none() {
        return new None();
    }
}
