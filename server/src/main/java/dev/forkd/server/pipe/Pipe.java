package dev.forkd.server.pipe;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.memory.ReplySize;
import dev.forkd.server.pipe.PipeWaiter.Poller;
import dev.forkd.server.pipe.PipeWaiter.Receiver;
import dev.forkd.server.pipe.PipeWaiter.Sender;
import dev.forkd.server.time.Timeout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A pipe: two ends and, per direction, a {@link PipeDirection}: a bounded buffer of messages with
 * its blocked senders, receivers and pollers (callbacks, first come first served, no thread each).
 * One lock guards the whole pipe; callbacks run after it is released.
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
    private final PipeDirection[] toEnd = new PipeDirection[2];
    private boolean deleted;

    Pipe(String id, Optional<String> name, boolean duplex, PipeLimits limits, ScheduledExecutorService timers,
            MemoryBudget memory) {
        this.id = id;
        this.name = name;
        this.duplex = duplex;
        this.limits = limits;
        this.timers = timers;
        this.memory = memory;
        String label = "pipe \"" + name.orElse(id) + "\"";
        toEnd[0] = new PipeDirection(limits, memory, label);
        toEnd[1] = duplex ? new PipeDirection(limits, memory, label) : null;
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
                    toEnd[k] == null ? 0 : toEnd[k].buffered()));
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
        long bytes = limits.checkSend(messages, partial);
        Sender s = new Sender(List.copyOf(messages), partial, bytes, done);
        memory.reserve(bytes, messages.size() + (messages.size() == 1 ? " message" : " messages") + " for "
                + endLabel(1 - end));
        try {
            return sendReserved(end, s, timeout);
        } catch (RuntimeException e) {
            memory.release(s.unsentBytes);
            throw e;
        }
    }

    private Pending sendReserved(int end, Sender s, Optional<Duration> timeout) {
        List<Runnable> after = new ArrayList<>();
        PipeDirection d;
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
            waitInLine(d, s, timeout, after);
        }
        runAll(after);
        return () -> leave(d, s, false);
    }

    // ------------------------------------------------------------------ receive

    /** Receives up to {@code max} messages at {@code end}, waiting up to the timeout. */
    public Pending recv(int end, int max, Optional<Duration> timeout, Consumer<PipeOutcomes.Recv> done) {
        return recv(end, max, timeout, done, () -> false);
    }

    /**
     * {@link #recv(int, int, Optional, Consumer)} for a caller that may go away without a word
     * reaching the pipe in time (a cancelled gRPC call): once {@code callerGone} says so, it is
     * handed no messages, so none is lost with it.
     */
    public Pending recv(int end, int max, Optional<Duration> timeout, Consumer<PipeOutcomes.Recv> done,
            BooleanSupplier callerGone) {
        if (max < 1 || max > limits.maxBatch()) {
            throw new ForkdException.InvalidArgument("max_messages", "must be between 1 and " + limits.maxBatch());
        }
        List<Runnable> after = new ArrayList<>();
        Receiver r = new Receiver(max, done, callerGone);
        PipeDirection d;
        synchronized (this) {
            d = readableDirection(end);
            waitInLine(d, r, timeout, after);
        }
        runAll(after);
        return () -> leave(d, r, false);
    }

    /** Whether a receive at {@code end} would answer at once, waiting up to the timeout for that. */
    public Pending poll(int end, Duration timeout, Consumer<PipeOutcomes.Poll> done) {
        List<Runnable> after = new ArrayList<>();
        Poller p = new Poller(done);
        PipeDirection d;
        synchronized (this) {
            d = readableDirection(end);
            if (d.readable()) {
                after.add(p.ready(d.buffered() == 0));
            } else if (timeout.isZero()) {
                after.add(p.timedOut());
            } else {
                d.requireWaiterRoom();
                // Scheduled before the poller is registered, so a failure leaves no waiter behind;
                // the expiry needs the monitor held here, so it cannot run before the add.
                p.startDeadline(Timeout.schedule(timers, timeout, () -> leave(d, p, true)));
                d.add(p);
            }
        }
        runAll(after);
        return () -> leave(d, p, false);
    }

    private PipeDirection readableDirection(int end) {
        requireOpen(end);
        if (!readable(end)) {
            throw new ForkdException.FailedPrecondition("PIPE_END_NOT_READABLE", endLabel(end)
                    + " only sends (a one-way pipe receives at end 0)", Map.of("end", endId(end)));
        }
        return toEnd[end];
    }

    // ------------------------------------------------------------------ waiting

    /**
     * Lines up a blocked send or receive and dispatches; if it still waits, a zero {@code timeout}
     * ends it at once and any other starts its deadline (empty: it waits as long as it takes).
     * Called holding the monitor.
     */
    private void waitInLine(PipeDirection d, PipeWaiter w, Optional<Duration> timeout, List<Runnable> after) {
        d.requireWaiterRoom();
        d.add(w);
        d.dispatch(after);
        if (!d.contains(w) || timeout.isEmpty()) {
            return;
        }
        if (timeout.get().isZero()) {
            d.remove(w);
            if (w instanceof Sender s) {
                s.refund(memory);
            }
            after.add(w.timedOut());
            return;
        }
        try {
            w.startDeadline(Timeout.schedule(timers, timeout.get(), () -> leave(d, w, true)));
        } catch (RuntimeException e) {
            d.remove(w); // a call that fails leaves no waiter behind
            throw e;
        }
    }

    /**
     * A blocked call leaves if it still waits: at its deadline with its timed-out answer, or without
     * an answer when its client went away. A sender's unsent bytes go back to the budget.
     */
    private void leave(PipeDirection d, PipeWaiter w, boolean timedOut) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (d.remove(w)) {
                w.stopDeadline();
                if (timedOut) {
                    after.add(w.timedOut());
                }
                if (w instanceof Sender s) {
                    s.refund(memory);
                    d.dispatch(after); // a big batch at the head may have held smaller ones back
                }
            }
        }
        runAll(after);
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
            PipeDirection out = toEnd[1 - end];
            if (out != null) { // what this end sent: the other end drains it, then reads end-of-file
                out.writerClosed = true;
                out.failSenders(closedError(end), after);
                out.dispatch(after);
            }
            PipeDirection in = toEnd[end];
            if (in != null) { // what was sent to this end: nobody will read it
                in.readerClosed = true;
                in.dropBuffered();
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
            for (PipeDirection d : toEnd) {
                if (d != null) {
                    d.failSenders(deletedError(), after);
                    d.failReceivers(deletedError(), after);
                    d.dropBuffered();
                }
            }
        }
        runAll(after);
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
