package dev.forkd.agent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import dev.forkd.posix.Posix;

/**
 * What the supervisor hands an agent on an inherited pipe: the token that opens the agent channel,
 * and this agent's own secret, which binds its registration to its agent id. Read once at start,
 * then the fd is closed (and children never inherit it: they get only fds 0-2).
 */
record AgentSecrets(String channelToken, String agentSecret) {
    /** Two short lines; anything longer is not from the supervisor. */
    private static final int MAX_BYTES = 1024;

    @Override
    public String toString() {
        return "AgentSecrets[hidden]";
    }

    /** Reads the fd to its end and closes it. */
    static AgentSecrets read(Posix posix, int fd) throws IOException {
        byte[] bytes = new byte[MAX_BYTES];
        int length = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(MAX_BYTES);
            while (length < MAX_BYTES) {
                int n = posix.read(fd, buf.asSlice(length), MAX_BYTES - length);
                if (n == 0) {
                    break;
                }
                if (n < 0) {
                    throw new IOException("fd " + fd + " is non-blocking and empty: no secret was handed over");
                }
                MemorySegment.copy(buf, length, MemorySegment.ofArray(bytes), length, n);
                length += n;
            }
        } finally {
            posix.close(fd);
        }
        String[] lines = new String(bytes, 0, length, StandardCharsets.UTF_8).split("\n");
        if (length >= MAX_BYTES || lines.length != 2 || lines[0].isBlank() || lines[1].isBlank()) {
            throw new IOException("fd " + fd + " must hold two lines (channel token, agent secret)");
        }
        return new AgentSecrets(lines[0].strip(), lines[1].strip());
    }
}
