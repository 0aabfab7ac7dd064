package dev.forkd.server.memory;

/**
 * How big a batch the server puts in one reply or stream message. Every gRPC client accepts messages
 * up to 4 MiB unless configured otherwise, and a reply it cannot read fails with RESOURCE_EXHAUSTED
 * after its items have left the server: lost. So a batch ends before its payload passes
 * {@link #MAX_BATCH_BYTES} (a margin under 4 MiB for per-item framing and the other fields), and the
 * rest waits for the next call. A batch always holds at least one item, and no single item or
 * message may exceed {@link #MAX_ITEM_BYTES}, so every reply fits.
 */
public final class ReplySize {

    /** The payload of one reply's batch, at most (3 MiB). */
    public static final long MAX_BATCH_BYTES = 3L << 20;

    /** The largest single queue item, pipe message or output chunk a reply may carry alone. */
    public static final long MAX_ITEM_BYTES = 1L << 20;

    private ReplySize() {}

    /** Whether a batch of {@code batchBytes} so far ({@code count} entries) may take {@code next} more bytes. */
    public static boolean fits(int count, long batchBytes, long next) {
        return count == 0 || batchBytes + next <= MAX_BATCH_BYTES;
    }
}
