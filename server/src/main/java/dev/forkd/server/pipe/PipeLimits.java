package dev.forkd.server.pipe;

/**
 * What bounds the pipes of one server.
 *
 * @param maxPipes the most pipes at once
 * @param maxMessageBytes the largest message
 * @param bufferMessages the most messages buffered in one direction
 * @param bufferBytes the most bytes buffered in one direction
 * @param maxBatch the most messages in one send or receive
 * @param maxWaiters the most blocked calls on one direction
 */
public record PipeLimits(int maxPipes, int maxMessageBytes, int bufferMessages, long bufferBytes, int maxBatch,
        int maxWaiters) {

    public PipeLimits {
        if (maxPipes < 1 || maxMessageBytes < 1 || bufferMessages < 1 || bufferBytes < maxMessageBytes
                || maxBatch < 1 || maxWaiters < 1) {
            throw new IllegalArgumentException("inconsistent pipe limits: " + this);
        }
    }

    /** 1,000 pipes; messages up to 1 MiB; 10,000 messages or 16 MiB buffered per direction. */
    public static PipeLimits defaults() {
        return new PipeLimits(1_000, 1 << 20, 10_000, 16L << 20, 10_000, 10_000);
    }
}
