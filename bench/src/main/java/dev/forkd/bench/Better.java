package dev.forkd.bench;

/** Which way a figure improves; a ratio above 1 always means forkd did better. */
public enum Better {
    /** Throughput: ratio = forkd / peer. */
    HIGHER,
    /** Latency, time, memory: ratio = peer / forkd. */
    LOWER;

    /** How many times better forkd's figure is than the peer's (below 1: worse). */
    public double ratio(double forkd, double peer) {
        return switch (this) {
            case HIGHER -> forkd / peer;
            case LOWER -> peer / forkd;
        };
    }

    /** Whether {@code value} meets an absolute limit. */
    public boolean meets(double value, double limit) {
        return switch (this) {
            case HIGHER -> value >= limit;
            case LOWER -> value <= limit;
        };
    }
}
