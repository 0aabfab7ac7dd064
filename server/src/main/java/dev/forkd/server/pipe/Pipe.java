package dev.forkd.server.pipe;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.memory.ReplySize;
import dev.forkd.server.time.Timeout;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A pipe: two ends and, per direction, a bounded buffer of messages with its blocked senders,
 * receivers and pollers (callbacks, first come first served, no thread each). One lock guards the
 * whole pipe; callbacks run after it is released.
 *
 * <p>Duplex: both directions. One-way, as {@code Pipe(duplex=False)}: end 0 receives, end 1 sends.
 *
 * <p>A send charges the server's {@link MemoryBudget} for its messages (waiting or buffered, they
 * are held) and is refused at once if the budget cannot hold them; the budget gets them back when
 * they are received, refused, dropped or deleted. A receive ends its batch before its payload passes
 * {@link ReplySize#MAX_BATCH_BYTES}; the rest stays buffered.
 */
public final class Pipe {

    private static final Logger LOG = Logger.getLogger(Pipe.class.getName());

    /** A blocked call that can be given up. */
    public interface Pending {
        void cancel();
    }

    private final String id;
    private final Optional<String> name;
    private final boolean duplex;
    private final PipeLimits limits;
    private final ScheduledExecutorService timers;
    private final MemoryBudget memory;
    private final boolean[] endClosed = new boolean[2];
    /** {@code toEnd[k]}: the direction whose messages end k receives (null if end k cannot receive). */
    private final Direction[] toEnd = new Direction[2];
    private boolean deleted;

    Pipe(String id, Optional<String> name, boolean duplex, PipeLimits limits, ScheduledExecutorService timers,
            MemoryBudget memory) {
        this.id = id;
        this.name = name;
        this.duplex = duplex;
        this.limits = limits;
        this.timers = timers;
        this.memory = memory;
        toEnd[0] = new Direction();
        toEnd[1] = duplex ? new Direction() : null;
    }

    public String id() {
        return id;
    }

    public Optional<String> name() {
        return name;
    }

    public boolean duplex() {
        return duplex;
    }

    public String endId(int end) {
        return id + "." + end;
    }

    /** One end's state. */
    public record EndState(String id, boolean readable, boolean writable, boolean closed, long buffered) {}

    public synchronized List<EndState> ends() {
        List<EndState> out = new ArrayList<>(2);
        for (int k = 0; k < 2; k++) {
            out.add(new EndState(endId(k), readable(k), writable(k), endClosed[k],
                    toEnd[k] == null ? 0 : toEnd[k].buffer.size()));
        }
        return out;
    }

    private boolean readable(int end) {
        return toEnd[end] != null;
    }

    private boolean writable(int end) {
        return toEnd[1 - end] != null;
    }

    private String endLabel(int end) {
        return "pipe end \"" + name.map(n -> n + "." + end).orElse(endId(end)) + "\"";
    }

    private void requireOpen(int end) {
        if (deleted) {
            throw new ForkdException.NotFound("pipe", name.orElse(id));
        }
        if (endClosed[end]) {
            throw new ForkdException.FailedPrecondition("PIPE_END_CLOSED", endLabel(end) + " is closed",
                    Map.of("end", endId(end)));
        }
    }

    private ForkdException broken(int from) {
        return new ForkdException.FailedPrecondition("PIPE_BROKEN", "broken pipe: the other end of "
                + endLabel(from) + " is closed", Map.of("end", endId(from)));
    }

    private ForkdException closedError(int end) {
        return new ForkdException.FailedPrecondition("PIPE_END_CLOSED", endLabel(end) + " was closed",
                Map.of("end", endId(end)));
    }

    private ForkdException deletedError() {
        return new ForkdException.FailedPrecondition("PIPE_DELETED", "pipe \"" + name.orElse(id) + "\" was deleted",
                Map.of("pipe", id));
    }

    // ------------------------------------------------------------------ send

    /**
     * Sends messages from {@code end}, in order: all or none for a unary send (waiting up to the
     * timeout for room), as much as fits at a time for a stream ({@code partial}).
     */
    public Pending send(int end, List<byte[]> messages, boolean partial, Optional<Duration> timeout,
            Consumer<PipeOutcomes.Send> done) {
        if (messages.isEmpty()) {
            throw new ForkdException.InvalidArgument("messages", "must hold at least one message");
        }
        if (messages.size() > limits.maxBatch()) {
            throw new ForkdException.InvalidArgument("messages", "holds " + messages.size()
                    + " messages; at most " + limits.maxBatch() + " per call (the server's limit)");
        }
        long bytes = 0;
        for (int i = 0; i < messages.size(); i++) {
            int n = messages.get(i).length;
            if (n > limits.maxMessageBytes()) {
                throw new ForkdException.InvalidArgument("messages[" + i + "]", "is " + n
                        + " bytes; messages are at most " + limits.maxMessageBytes() + " bytes (the server's limit)");
            }
            bytes += n;
        }
        if (!partial && (messages.size() > limits.bufferMessages() || bytes > limits.bufferBytes())) {
            throw new ForkdException.InvalidArgument("messages", "is more than a pipe buffers ("
                    + limits.bufferMessages() + " messages, " + limits.bufferBytes() + " bytes); send it in parts");
        }
        List<Runnable> after = new ArrayList<>();
        Sender s = new Sender(List.copyOf(messages), partial, bytes, done);
        memory.reserve(bytes, messages.size() + (messages.size() == 1 ? " message" : " messages") + " for "
                + endLabel(1 - end));
        try {
            return sendReserved(end, s, timeout, after);
        } catch (RuntimeException e) {
            memory.release(s.unsentBytes);
            throw e;
        }
    }

    private Pending sendReserved(int end, Sender s, Optional<Duration> timeout, List<Runnable> after) {
        Consumer<PipeOutcomes.Send> done = s.done;
        Direction d;
        synchronized (this) {
            requireOpen(end);
            if (!writable(end)) {
                throw new ForkdException.FailedPrecondition("PIPE_END_NOT_WRITABLE", endLabel(end)
                        + " only receives (a one-way pipe sends from end 1)", Map.of("end", endId(end)));
            }
            d = toEnd[1 - end];
            if (d.readerClosed) {
                throw broken(end);
            }
            d.requireWaiterRoom();
            d.senders.addLast(s);
            d.dispatch(after);
            if (d.senders.contains(s)) {
                if (timeout.isPresent() && timeout.get().isZero()) {
                    d.senders.remove(s);
                    refund(s);
                    after.add(() -> done.accept(new PipeOutcomes.Send.TimedOut()));
                } else if (timeout.isPresent()) {
                    try {
                        s.timer = Timeout.schedule(timers, timeout.get(), () -> expire(d.senders, s,
                                () -> done.accept(new PipeOutcomes.Send.TimedOut()))).orElse(null);
                    } catch (RuntimeException e) {
                        d.senders.remove(s); // a call that fails leaves no waiter behind
                        throw e;
                    }
                }
            }
        }
        runAll(after);
        return () -> {
            List<Runnable> later = new ArrayList<>();
            synchronized (this) {
                if (d.senders.remove(s)) {
                    cancel(s.timer);
                    refund(s);
                    d.dispatch(later);
                }
            }
            runAll(later);
        };
    }

    // ------------------------------------------------------------------ receive

    /** Receives up to {@code max} messages at {@code end}, waiting up to the timeout. */
    public Pending recv(int end, int max, Optional<Duration> timeout, Consumer<PipeOutcomes.Recv> done) {
        if (max < 1 || max > limits.maxBatch()) {
            throw new ForkdException.InvalidArgument("max_messages", "must be between 1 and " + limits.maxBatch());
        }
        List<Runnable> after = new ArrayList<>();
        Receiver r = new Receiver(max, done);
        Direction d;
        synchronized (this) {
            d = readableDirection(end);
            d.requireWaiterRoom();
            d.receivers.addLast(r);
            d.dispatch(after);
            if (d.receivers.contains(r)) {
                if (timeout.isPresent() && timeout.get().isZero()) {
                    d.receivers.remove(r);
                    after.add(() -> done.accept(new PipeOutcomes.Recv.TimedOut()));
                } else if (timeout.isPresent()) {
                    try {
                        r.timer = Timeout.schedule(timers, timeout.get(), () -> expire(d.receivers, r,
                                () -> done.accept(new PipeOutcomes.Recv.TimedOut()))).orElse(null);
                    } catch (RuntimeException e) {
                        d.receivers.remove(r); // a call that fails leaves no waiter behind
                        throw e;
                    }
                }
            }
        }
        runAll(after);
        return () -> {
            synchronized (this) {
                if (d.receivers.remove(r)) {
                    cancel(r.timer);
                }
            }
        };
    }

    /** Whether a receive at {@code end} would answer at once, waiting up to the timeout for that. */
    public Pending poll(int end, Duration timeout, Consumer<PipeOutcomes.Poll> done) {
        List<Runnable> after = new ArrayList<>();
        Poller p = new Poller(done);
        Direction d;
        synchronized (this) {
            d = readableDirection(end);
            if (!d.buffer.isEmpty() || d.writerClosed) {
                PipeOutcomes.Poll now = new PipeOutcomes.Poll(true, d.buffer.isEmpty());
                after.add(() -> done.accept(now));
            } else if (timeout.isZero()) {
                after.add(() -> done.accept(new PipeOutcomes.Poll(false, false)));
            } else {
                d.requireWaiterRoom();
                // Scheduled before the poller is registered, so a failure leaves no waiter behind;
                // the expiry needs the monitor held here, so it cannot run before the add.
                p.timer = Timeout.schedule(timers, timeout, () -> expire(d.pollers, p,
                        () -> done.accept(new PipeOutcomes.Poll(false, false)))).orElse(null);
                d.pollers.addLast(p);
            }
        }
        runAll(after);
        return () -> {
            synchronized (this) {
                if (d.pollers.remove(p)) {
                    cancel(p.timer);
                }
            }
        };
    }

    private Direction readableDirection(int end) {
        requireOpen(end);
        if (!readable(end)) {
            throw new ForkdException.FailedPrecondition("PIPE_END_NOT_READABLE", endLabel(end)
                    + " only sends (a one-way pipe receives at end 0)", Map.of("end", endId(end)));
        }
        return toEnd[end];
    }

    // ------------------------------------------------------------------ close, delete

    /** Closes one end. The other end reads what is buffered, then end-of-file. Idempotent. */
    public void closeEnd(int end) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (deleted) {
                throw new ForkdException.NotFound("pipe", name.orElse(id));
            }
            if (endClosed[end]) {
                return;
            }
            endClosed[end] = true;
            Direction out = toEnd[1 - end];
            if (out != null) { // what this end sent: the other end drains it, then reads end-of-file
                out.writerClosed = true;
                out.failSenders(closedError(end), after);
                out.dispatch(after);
            }
            Direction in = toEnd[end];
            if (in != null) { // what was sent to this end: nobody will read it
                in.readerClosed = true;
                in.buffer.clear();
                memory.release(in.bytes);
                in.bytes = 0;
                in.failSenders(broken(1 - end), after);
                in.failReceivers(closedError(end), after);
            }
        }
        runAll(after);
    }

    synchronized boolean endClosed(int end) {
        return endClosed[end];
    }

    void delete() {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (deleted) {
                return;
            }
            deleted = true;
            for (Direction d : toEnd) {
                if (d != null) {
                    d.failSenders(deletedError(), after);
                    d.failReceivers(deletedError(), after);
                    d.buffer.clear();
                    memory.release(d.bytes);
                    d.bytes = 0;
                }
            }
        }
        runAll(after);
    }

    // ------------------------------------------------------------------ one direction

    private static final class Sender {
        final List<byte[]> messages;
        final boolean partial;
        final Consumer<PipeOutcomes.Send> done;
        final long remainingBytes;
        /** The bytes of the messages not yet buffered: what the budget holds for this sender. */
        long unsentBytes;
        int next;
        ScheduledFuture<?> timer;

        Sender(List<byte[]> messages, boolean partial, long bytes, Consumer<PipeOutcomes.Send> done) {
            this.messages = messages;
            this.partial = partial;
            this.remainingBytes = bytes;
            this.unsentBytes = bytes;
            this.done = done;
        }
    }

    private static final class Receiver {
        final int max;
        final Consumer<PipeOutcomes.Recv> done;
        ScheduledFuture<?> timer;

        Receiver(int max, Consumer<PipeOutcomes.Recv> done) {
            this.max = max;
            this.done = done;
        }
    }

    private static final class Poller {
        final Consumer<PipeOutcomes.Poll> done;
        ScheduledFuture<?> timer;

        Poller(Consumer<PipeOutcomes.Poll> done) {
            this.done = done;
        }
    }

    /** Messages one way between the ends. Guarded by the pipe's lock. */
    private final class Direction {
        final ArrayDeque<byte[]> buffer = new ArrayDeque<>();
        final ArrayDeque<Sender> senders = new ArrayDeque<>();
        final ArrayDeque<Receiver> receivers = new ArrayDeque<>();
        final ArrayDeque<Poller> pollers = new ArrayDeque<>();
        long bytes;
        boolean writerClosed;
        boolean readerClosed;

        void requireWaiterRoom() {
            if (senders.size() + receivers.size() + pollers.size() >= limits.maxWaiters()) {
                throw new ForkdException.ResourceExhausted("TOO_MANY_WAITERS", "pipe \"" + name.orElse(id)
                        + "\" already has " + limits.maxWaiters() + " blocked callers (the server's limit)");
            }
        }

        boolean fits(long n, long b) {
            return buffer.size() + n <= limits.bufferMessages() && bytes + b <= limits.bufferBytes();
        }

        void dispatch(List<Runnable> after) {
            boolean moved = true;
            while (moved) {
                moved = false;
                while (!buffer.isEmpty() && !receivers.isEmpty()) {
                    Receiver r = receivers.pollFirst();
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
                    cancel(r.timer);
                    after.add(() -> r.done.accept(new PipeOutcomes.Recv.Messages(got)));
                    moved = true;
                }
                Sender s = senders.peekFirst();
                if (s != null) {
                    if (!s.partial) {
                        if (fits(s.messages.size(), s.remainingBytes)) {
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
                        cancel(s.timer);
                        after.add(() -> s.done.accept(new PipeOutcomes.Send.Done(s.messages.size())));
                    }
                }
            }
            if (!buffer.isEmpty() || writerClosed) {
                boolean eof = buffer.isEmpty();
                for (Poller p : pollers) {
                    cancel(p.timer);
                    after.add(() -> p.done.accept(new PipeOutcomes.Poll(true, eof)));
                }
                pollers.clear();
            }
            if (buffer.isEmpty() && writerClosed) {
                for (Receiver r : receivers) {
                    cancel(r.timer);
                    after.add(() -> r.done.accept(new PipeOutcomes.Recv.Eof()));
                }
                receivers.clear();
            }
        }

        void append(Sender s, byte[] m) {
            buffer.addLast(m);
            bytes += m.length;
            s.unsentBytes -= m.length; // now charged as buffered
        }

        void failSenders(ForkdException e, List<Runnable> after) {
            for (Sender s : senders) {
                cancel(s.timer);
                refund(s);
                after.add(() -> s.done.accept(new PipeOutcomes.Send.Failed(e)));
            }
            senders.clear();
        }

        void failReceivers(ForkdException e, List<Runnable> after) {
            for (Receiver r : receivers) {
                cancel(r.timer);
                after.add(() -> r.done.accept(new PipeOutcomes.Recv.Failed(e)));
            }
            receivers.clear();
            for (Poller p : pollers) {
                cancel(p.timer);
                after.add(() -> p.done.accept(new PipeOutcomes.Poll(false, false)));
            }
            pollers.clear();
        }
    }

    private <T> void expire(ArrayDeque<T> waiters, T w, Runnable timedOut) {
        List<Runnable> after = new ArrayList<>();
        boolean expired;
        synchronized (this) {
            expired = waiters.remove(w);
            if (expired && w instanceof Sender s) {
                refund(s);
                for (Direction d : toEnd) {
                    if (d != null && d.senders == waiters) {
                        d.dispatch(after); // a big batch at the head may have held smaller ones back
                    }
                }
            }
        }
        if (expired) {
            timedOut.run();
        }
        runAll(after);
    }

    /** A sender leaves with messages unsent: the budget gets their bytes back. */
    private void refund(Sender s) {
        memory.release(s.unsentBytes);
        s.unsentBytes = 0;
    }

    private static void cancel(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    private static void runAll(List<Runnable> after) {
        for (Runnable r : after) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a pipe callback failed", e);
            }
        }
    }
}
