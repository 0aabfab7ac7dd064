package dev.forkd.agent;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

import com.google.protobuf.ByteString;
import dev.forkd.posix.Posix;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.StdinWritten;

/**
 * Writes to one child's stdin pipe without ever blocking: the fd is non-blocking, and what the pipe
 * does not take now waits here until epoll says it is writable again. Pump thread only.
 */
final class StdinWriter {
    /** Writes accepted ahead of the child's reading; more is refused with an error reply. */
    static final int MAX_PENDING = 64;

    private final Posix posix;
    private final SupervisorLink link;
    private final ChildKey key;
    private final int fd;
    final long token;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean writable = true;
    private boolean open = true;
    /** Set on EPIPE: the child closed its end, every later write fails the same way. */
    private String failure = "";

    StdinWriter(Posix posix, SupervisorLink link, ChildKey key, int fd, long token) {
        this.posix = posix;
        this.link = link;
        this.key = key;
        this.fd = fd;
        this.token = token;
    }

    int fd() {
        return fd;
    }

    boolean isOpen() {
        return open;
    }

    void enqueue(ByteString data, boolean close) {
        if (pending.size() >= MAX_PENDING) {
            reply(0, false, "stdin backlog full (" + MAX_PENDING + " writes waiting for the child to read)");
            return;
        }
        pending.add(new Pending(data, close));
    }

    void becameWritable() {
        writable = true;
    }

    boolean hasWork() {
        return writable && !pending.isEmpty();
    }

    /** Writes what the pipe takes now; buf is the pump's scratch buffer. */
    void progress(MemorySegment buf) {
        while (writable && !pending.isEmpty()) {
            Pending p = pending.peek();
            if (!open) {
                reply(0, true, "stdin is already closed");
                pending.poll();
                continue;
            }
            if (!failure.isEmpty()) {
                reply(0, false, failure);
                pending.poll();
                continue;
            }
            try {
                while (p.offset < p.data.size()) {
                    int len = (int) Math.min(p.data.size() - p.offset, buf.byteSize());
                    p.data.substring(p.offset, p.offset + len).copyTo(buf.asByteBuffer());
                    int n = posix.write(fd, buf, len);
                    if (n == -2) {
                        writable = false;
                        return;
                    }
                    p.offset += n;
                }
            } catch (IOException e) {
                failure = "child closed its stdin";
                reply(p.offset, false, failure);
                pending.poll();
                continue;
            }
            if (p.close) {
                close();
            }
            reply(p.data.size(), p.close, "");
            pending.poll();
        }
    }

    /** The child is gone: refuse what is still waiting, close the pipe. */
    void abandon() {
        for (Pending p : pending) {
            reply(p.offset, false, "child exited before reading its stdin");
        }
        pending.clear();
        close();
    }

    /** Fails a write that never reached a writer (no such child, stdin not a pipe). */
    static AgentMessage failedWrite(ChildKey key, String error) {
        return AgentMessage.newBuilder().setStdinWritten(StdinWritten.newBuilder()
                .setProcessId(key.processId()).setRun(key.run()).setError(error)).build();
    }

    private void close() {
        if (open) {
            open = false;
            posix.close(fd);
        }
    }

    private void reply(long bytes, boolean closed, String error) {
        link.send(AgentMessage.newBuilder().setStdinWritten(StdinWritten.newBuilder()
                .setProcessId(key.processId()).setRun(key.run())
                .setBytes(bytes).setClosed(closed).setError(error)).build());
    }

    private static final class Pending {
        final ByteString data;
        final boolean close;
        int offset;

        Pending(ByteString data, boolean close) {
            this.data = data;
            this.close = close;
        }
    }
}
