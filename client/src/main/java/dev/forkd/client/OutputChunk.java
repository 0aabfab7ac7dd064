package dev.forkd.client;

/**
 * Bytes a process wrote, or the notice that some were lost.
 *
 * @param stderr true for its stderr, false for its stdout
 * @param offset where the bytes start in the process's output (both streams counted together)
 * @param data the bytes; not to be changed
 * @param lostBytes 0 for output; otherwise this is no output (its {@code data} is empty) but the
 *     notice that this many bytes from {@code offset} on were lost: the server stopped (a crash)
 *     before it had kept them, and the next chunk starts {@code lostBytes} further on
 */
public record OutputChunk(boolean stderr, long offset, byte[] data, long lostBytes) {

    /** Bytes a process wrote. */
    public OutputChunk(boolean stderr, long offset, byte[] data) {
        this(stderr, offset, data, 0);
    }

    /** Whether this is the notice of lost output rather than output. */
    public boolean isLost() {
        return lostBytes > 0;
    }
}
