package dev.forkd.server.pipe;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.memory.ReplySize;
import dev.forkd.server.pipe.PipeWaiter.Poller;
import dev.forkd.server.pipe.PipeWaiter.Receiver;
import dev.forkd.server.pipe.PipeWaiter.Sender;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Messages one way between a pipe's ends: the bounded buffer, and the senders, receivers and pollers
 * blocked on it, each line first come, first served. Guarded by the pipe's lock; the answers of
 * calls that end here are added to {@code after}, to run once that lock is released.
 */
final class PipeDirection {

    private final PipeLimits limits;
    private final MemoryBudget memory;
    /** {@code pipe "<name or id>"}, as messages name the pipe. */
    private final String pipeLabel;

    private final ArrayDeque<byte[]> buffer = new ArrayDeque<>();
    private final ArrayDeque<Sender> senders = new ArrayDeque<>();
    private final ArrayDeque<Receiver> receivers = new ArrayDeque<>();
    private final ArrayDeque<Poller> pollers = new ArrayDeque<>();
    private long bytes;
    /** The sending end is closed: once the buffer is drained, receivers read end-of-file. */
    boolean writerClosed;
    /** The receiving end is closed: nobody will read what is sent. */
    boolean readerClosed;

    PipeDirection(PipeLimits limits, MemoryBudget memory, String pipeLabel) {
        this.limits = limits;
        this.memory = memory;
        this.pipeLabel = pipeLabel;
    }

    /** How many messages are buffered. */
    int buffered() {
        return buffer.size();
    }

    /** Whether a receive would answer at once: a message, or end-of-file, is there. */
    boolean readable() {
        return !buffer.isEmpty() || writerClosed;
    }

    void requireWaiterRoom() {
        if (senders.size() + receivers.size() + pollers.size() >= limits.maxWaiters()) {
            throw new ForkdException.ResourceExhausted("TOO_MANY_WAITERS", pipeLabel
                    + " already has " + limits.maxWaiters() + " blocked callers (the server's limit)");
        }
    }

    void add(PipeWaiter w) {
        switch (w) {
            case Sender s -> senders.addLast(s);
            case Receiver r -> receivers.addLast(r);
            case Poller p -> pollers.addLast(p);
        }
    }

    boolean contains(PipeWaiter w) {
        return switch (w) {
            case Sender s -> senders.contains(s);
            case Receiver r -> receivers.contains(r);
            case Poller p -> pollers.contains(p);
        };
    }

    /** Takes {@code w} out of its line; false if it no longer waits. */
    boolean remove(PipeWaiter w) {
        return switch (w) {
            case Sender s -> senders.remove(s);
            case Receiver r -> receivers.remove(r);
            case Poller p -> pollers.remove(p);
        };
    }

    private boolean fits(long n, long b) {
        return buffer.size() + n <= limits.bufferMessages() && bytes + b <= limits.bufferBytes();
    }

    /**
     * Moves messages until nothing moves: from the buffer to the head receiver, from the head sender
     * into the buffer. Then wakes what the new state allows: pollers once a receive would answer,
     * receivers at end-of-file. Called under the pipe's lock after every change.
     */
    void dispatch(List<Runnable> after) {
        boolean moved = true;
        while (moved) {
            moved = false;
            while (!buffer.isEmpty() && !receivers.isEmpty()) {
                Receiver r = receivers.pollFirst();
                if (r.callerGone()) {
                    r.stopDeadline(); // gone before its cancel arrived: it takes nothing
                    continue;
                }
                List<byte[]> got = new ArrayList<>(Math.min(r.max, buffer.size()));
                long gotBytes = 0;
                while (got.size() < r.max && !buffer.isEmpty()
                        && ReplySize.fits(got.size(), gotBytes, buffer.peekFirst().length)) {
                    byte[] m = buffer.pollFirst();
                    bytes -= m.length;
                    gotBytes += m.length;
                    got.add(m);
                }
                memory.release(gotBytes);
                r.stopDeadline();
                after.add(r.received(got));
                moved = true;
            }
            Sender s = senders.peekFirst();
            if (s != null) {
                if (!s.partial) {
                    if (fits(s.messages.size(), s.bytes)) {
                        s.messages.forEach(m -> append(s, m));
                        s.next = s.messages.size();
                        moved = true;
                    }
                } else {
                    while (s.next < s.messages.size() && fits(1, s.messages.get(s.next).length)) {
                        append(s, s.messages.get(s.next++));
                        moved = true;
                    }
                }
                if (s.next == s.messages.size()) {
                    senders.pollFirst();
                    s.stopDeadline();
                    after.add(s.sent());
                }
            }
        }
        if (readable()) {
            boolean eof = buffer.isEmpty();
            for (Poller p : pollers) {
                p.stopDeadline();
                after.add(p.ready(eof));
            }
            pollers.clear();
        }
        if (buffer.isEmpty() && writerClosed) {
            for (Receiver r : receivers) {
                r.stopDeadline();
                after.add(r.eof());
            }
            receivers.clear();
        }
    }

    private void append(Sender s, byte[] m) {
        buffer.addLast(m);
        bytes += m.length;
        s.unsentBytes -= m.length; // now charged as buffered
    }

    /** Every blocked sender fails with {@code e}; the budget gets back what they had not sent. */
    void failSenders(ForkdException e, List<Runnable> after) {
        for (Sender s : senders) {
            s.stopDeadline();
            s.refund(memory);
            after.add(s.failed(e));
        }
        senders.clear();
    }

    /** Every blocked receiver fails with {@code e}; every poller is told "not ready". */
    void failReceivers(ForkdException e, List<Runnable> after) {
        for (Receiver r : receivers) {
            r.stopDeadline();
            after.add(r.failed(e));
        }
        receivers.clear();
        for (Poller p : pollers) {
            p.stopDeadline();
            after.add(p.failed(e));
        }
        pollers.clear();
    }

    /** Drops what is buffered (nobody will read it); the budget gets its bytes back. */
    void dropBuffered() {
        buffer.clear();
        memory.release(bytes);
        bytes = 0;
    }
}
