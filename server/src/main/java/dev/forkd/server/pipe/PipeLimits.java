package dev.forkd.server.pipe;

import dev.forkd.server.error.ForkdException;
import java.util.List;

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

    /**
     * Checks a send's messages against the message and batch limits, and a unary send's (all or
     * none, so not {@code partial}) against what a pipe buffers. Returns their bytes.
     */
    long checkSend(List<byte[]> messages, boolean partial) {
        if (messages.isEmpty()) {
            throw new ForkdException.InvalidArgument("messages", "must hold at least one message");
        }
        if (messages.size() > maxBatch()) {
            throw new ForkdException.InvalidArgument("messages", "holds " + messages.size()
                    + " messages; at most " + maxBatch() + " per call (the server's limit)");
        }
        long bytes = 0;
        for (int i = 0; i < messages.size(); i++) {
            int n = messages.get(i).length;
            if (n > maxMessageBytes()) {
                throw new ForkdException.InvalidArgument("messages[" + i + "]", "is " + n
                        + " bytes; messages are at most " + maxMessageBytes() + " bytes (the server's limit)");
            }
            bytes += n;
        }
        if (!partial && (messages.size() > bufferMessages() || bytes > bufferBytes())) {
            throw new ForkdException.InvalidArgument("messages", "is more than a pipe buffers ("
                    + bufferMessages() + " messages, " + bufferBytes() + " bytes); send it in parts");
        }
        return bytes;
    }
}
