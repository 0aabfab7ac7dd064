package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.Event;
import dev.forkd.server.events.EventKind;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.memory.ReplySize;
import dev.forkd.server.time.Timeout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One server-held queue: a bounded FIFO of items, and the callers blocked on it.
 *
 * <p>It is three parts under one lock: its {@link QueueContents} (the items, the bounds, what the
 * memory budget and a durable queue's store are told as items come and go), its
 * {@link QueueWaiters} (blocked putters, takers and joiners, in lines, with deadlines) and its
 * {@link QueueConsumers} (Consume streams, their credit and the items in flight to them). Blocked
 * callers are not threads but callbacks queued on this object.
 *
 * <p>Every change is one {@link #transition}: under the lock it applies the change, then
 * {@link #dispatch} moves items from waiting putters into the queue and from the queue to waiting
 * takers until neither can move, so the store's writes and the server's events follow the order of
 * the changes. The answers of calls that ended run after the lock is released, so an answer may
 * call back into the queue. Consume sinks are the exception: they are told of deliveries under the
 * lock, in order, and must only hand them on (see {@link QueueConsumer.Sink}).
 *
 * <p>Capacity counts items delivered by Consume and not yet acked, so that putting them back at the
 * head when their consumer dies never overflows the bound.
 *
 * <p>The server's {@link MemoryBudget} is charged for a batch when it is put (waiting, queued or in
 * flight it is held) and refunded when its items leave: taken, acked, timed out, refused or deleted.
 * A put the budget cannot hold is refused at once and changes nothing. A reply or delivery ends
 * before its payload passes {@link ReplySize#MAX_BATCH_BYTES}; the rest stays queued.
 *
 * <p>A durable queue answers a put once the store has committed its items: the thread that put them
 * commits them once the lock is released (see {@link QueueJournal#commit}), and the answer leaves
 * from the commit's callback.
 */
public final class ItemQueue {

    private static final Logger LOG = Logger.getLogger(ItemQueue.class.getName());

    private final QueueName id;
    private final long maxsize;
    private final QueueLimits limits;
    private final ScheduledExecutorService timers;
    private final MemoryBudget memory;
    private final ServerEvents events;
    private final ReentrantLock lock = new ReentrantLock();

    // Guarded by the lock.
    private final QueueContents contents;
    private final QueueWaiters waiters;
    private final QueueConsumers consumers;
    private boolean deleted;
    private int producerStreams;

    /**
     * A queue that tells {@code events} when it is closed, and whose items {@code journal} keeps (a
     * durable queue), or not ({@link QueueJournal#NONE}).
     */
    ItemQueue(String id, Optional<String> name, long maxsize, QueueLimits limits, ScheduledExecutorService timers,
            MemoryBudget memory, ServerEvents events, QueueJournal journal) {
        this.id = new QueueName(id, name);
        this.maxsize = maxsize;
        this.limits = limits;
        this.timers = timers;
        this.memory = memory;
        this.events = events;
        this.contents = new QueueContents(id, name, maxsize, limits.maxQueueBytes(), memory, journal);
        this.waiters = new QueueWaiters(limits.maxWaiters());
        this.consumers = new QueueConsumers(limits);
    }

    public String id() {
        return id.id();
    }

    public Optional<String> name() {
        return id.name();
    }

    /** Whether its items are kept in the state store. */
    public boolean durable() {
        return contents.durable();
    }

    /** A blocked call that can be given up (its client went away). */
    public interface Pending {
        /** Forgets the call if it still waits; its callback is then never called. */
        void cancel();

        Pending DONE = () -> {};
    }

    // ---------------------------------------------------------------- state

    public QueueSnapshot snapshot() {
        return locked(this::snapshotLocked);
    }

    private QueueSnapshot snapshotLocked() {
        return contents.snapshot(producerStreams + waiters.unaryPutters(), consumers.count() + waiters.takeCalls());
    }

    /** The definition as it is now, for the store; a durable queue's creation keeps it. */
    QueueRecords.Definition definition() {
        return locked(contents::definition);
    }

    /**
     * Puts back what the store kept of this queue, before anyone can call it: its items in order,
     * charged to the memory budget, and {@code undone} tasks taken but not marked done.
     *
     * @throws ForkdException.ResourceExhausted if the memory budget cannot hold the items
     */
    void restore(List<QueueEntry> stored, long nextSeq, long undone, boolean wasClosed) {
        locked(() -> {
            contents.restore(stored, nextSeq, undone, wasClosed, id.label());
            return null;
        });
    }

    /** A Produce stream started on this queue. */
    public void producerOpened() {
        locked(() -> producerStreams++);
    }

    /** A Produce stream on this queue ended. */
    public void producerClosed() {
        locked(() -> producerStreams--);
    }

    private void requireLive() {
        if (deleted) {
            throw id.notFound();
        }
    }

    // ---------------------------------------------------------------- put

    /**
     * Puts a batch, all or none, waiting up to {@code timeout} for room (empty: as long as it takes;
     * zero: not at all).
     *
     * @throws ForkdException.FailedPrecondition if the queue is closed
     * @throws ForkdException.InvalidArgument for an empty, oversized or too large batch
     */
    public Pending put(List<Item> batch, Optional<Duration> timeout, Consumer<Outcomes.Put> done) {
        long cost = limits.checkPut(batch, maxsize, id.label());
        return reserveAndWait(new PendingPut(List.copyOf(batch), true, cost, () -> { }, done), timeout);
    }

    /**
     * Puts a producer's batch: as many items as fit at once, the rest as room appears, never
     * reordered and never overtaking an earlier blocked putter. {@code done} is told once all are in
     * (for a durable queue: and committed).
     */
    public Pending produce(List<Item> batch, Consumer<Outcomes.Put> done) {
        return produce(batch, () -> { }, done);
    }

    /**
     * {@link #produce(List, Consumer)}, telling {@code admitted} first, as soon as all are in the queue
     * (before a durable queue's commit): a producer may then send its next batch while this one is
     * being committed.
     */
    public Pending produce(List<Item> batch, Runnable admitted, Consumer<Outcomes.Put> done) {
        long cost = limits.checkBatch(batch, "items");
        return reserveAndWait(new PendingPut(List.copyOf(batch), false, cost, admitted, done), Optional.empty());
    }

    /** Charges the budget for the batch, then lines up the putter; a refusal anywhere refunds it. */
    private Pending reserveAndWait(PendingPut p, Optional<Duration> timeout) {
        memory.reserve(p.remainingBytes(), p.batch.size() + (p.batch.size() == 1 ? " item" : " items")
                + " for " + id.label());
        try {
            change(after -> {
                requireLive();
                if (contents.closed()) {
                    throw id.closed();
                }
                waitInLine(p, timeout, after);
            });
        } catch (RuntimeException e) {
            memory.release(p.remainingBytes());
            throw e;
        }
        return () -> leave(p, false);
    }

    // ---------------------------------------------------------------- take

    /**
     * Takes up to {@code max} items (at least one), waiting up to {@code timeout} while the queue is
     * empty. At-most-once: the items leave the queue when handed to {@code done}.
     */
    public Pending take(int max, Optional<Duration> timeout, Consumer<Outcomes.Take> done) {
        return take(max, timeout, done, () -> false);
    }

    /**
     * {@link #take(int, Optional, Consumer)} for a caller that may go away without a word reaching
     * the queue in time (a cancelled gRPC call): once {@code callerGone} says so, it is handed no
     * items, so none is lost with it.
     */
    public Pending take(int max, Optional<Duration> timeout, Consumer<Outcomes.Take> done, BooleanSupplier callerGone) {
        limits.checkTake(max);
        TakeCall t = new TakeCall(max, done, callerGone);
        change(after -> {
            requireLive();
            waitInLine(t, timeout, after);
        });
        return () -> leave(t, false);
    }

    // ---------------------------------------------------------------- consume

    /**
     * Opens a Consume stream's consumer. It receives nothing until it is given credit; a drained
     * queue ends it at once.
     *
     * @param session the caller's session, whose end gives back what the consumer has not acked
     */
    public QueueConsumer consume(Optional<String> session, QueueConsumer.Sink sink) {
        QueueConsumer c = new QueueConsumer(this, session, sink);
        change(after -> {
            requireLive();
            consumers.open(c);
        });
        return c;
    }

    void grant(QueueConsumer c, int credit) {
        if (credit < 0) {
            throw new ForkdException.InvalidArgument("credit", "must not be negative");
        }
        change(after -> {
            if (consumers.isOpen(c) && credit > 0 && consumers.grant(c, credit)) {
                waiters.ready(c);
            }
        });
    }

    /**
     * Acks by tag and/or every tag up to {@code through} (0: none); returns how many it acked. Tags
     * not (or no longer) delivered to {@code c}, and repeats, are ignored.
     */
    int ack(QueueConsumer c, List<Long> tags, long through, boolean taskDone) {
        return transition(after -> consumers.isOpen(c)
                ? consumers.ack(c, tags, through, taskDone, contents, n -> id.tooManyDone(n, contents.unfinished()))
                : 0);
    }

    /**
     * Ends a consumer (its stream ended or its session did): what it has not acked goes back to the
     * head of the queue, in its order, ahead of everything else. Returns how many items went back.
     */
    int endConsumer(QueueConsumer c, Optional<Outcomes.ConsumerEnd> tell) {
        return transition(after -> {
            if (!consumers.isOpen(c)) {
                return 0;
            }
            waiters.leave(c);
            return consumers.end(c, contents, tell);
        });
    }

    /** Gives back what the consumers of {@code session} have not acked, and ends them. */
    int releaseSession(String session) {
        int released = 0;
        for (QueueConsumer c : locked(() -> consumers.ofSession(session))) {
            released += endConsumer(c, Optional.of(new Outcomes.ConsumerEnd.Failed(id.sessionEnded(session))));
        }
        return released;
    }

    // ---------------------------------------------------------------- join, task_done, close, delete

    /** Marks {@code count} tasks done; returns how many remain unfinished. */
    public long taskDone(int count) {
        if (count < 1) {
            throw new ForkdException.InvalidArgument("count", "must be at least 1");
        }
        return transition(after -> {
            requireLive();
            if (count > contents.unfinished()) {
                throw id.tooManyDone(count, contents.unfinished());
            }
            return contents.taskDone(count);
        });
    }

    /** Waits until every item put is marked done, up to {@code timeout}. */
    public Pending join(Optional<Duration> timeout, Consumer<Outcomes.Join> done) {
        JoinCall j = new JoinCall(done);
        change(after -> {
            requireLive();
            if (contents.unfinished() == 0) {
                after.add(j.joined());
            } else if (timeout.isPresent() && timeout.get().isZero()) {
                after.add(j.timedOut(contents));
            } else {
                waitInLine(j, timeout, after);
            }
        });
        return () -> leave(j, false);
    }

    /** No more puts; blocked putters fail; takers drain, then learn it is closed. */
    public QueueSnapshot close() {
        return transition(after -> {
            requireLive();
            if (!contents.closed()) {
                contents.close();
                events.happened(Event.of(EventKind.QUEUE_CLOSED, id.id(), id.name(),
                        Map.of("size", Long.toString(contents.size()), "in_flight", Long.toString(contents.inFlight()))));
                waiters.failPutters(id.closed(), memory, after);
                dispatch(after); // the snapshot shows the queue after the close
            }
            return snapshotLocked();
        });
    }

    /** Drops everything and fails every blocked caller; returns how many items were dropped. */
    long delete() {
        return transition(after -> {
            if (deleted) {
                return 0L;
            }
            deleted = true;
            long dropped = contents.drop();
            ForkdException err = id.deleted();
            waiters.failAll(err, memory, after);
            consumers.deleted(err);
            return dropped;
        });
    }

    // ---------------------------------------------------------------- waiting

    /**
     * Lines up a blocked call and dispatches; if it still waits, a zero {@code timeout} ends it at
     * once and any other starts its deadline (empty: it waits as long as it takes).
     */
    private void waitInLine(Waiter w, Optional<Duration> timeout, List<Runnable> after) {
        waiters.requireRoom(id.label());
        waiters.add(w);
        dispatch(after);
        if (!waiters.contains(w) || timeout.isEmpty()) {
            return;
        }
        if (timeout.get().isZero()) {
            waiters.leave(w, true, contents, memory, after);
            return;
        }
        try {
            w.startDeadline(Timeout.schedule(timers, timeout.get(), () -> leave(w, true)));
        } catch (RuntimeException e) {
            waiters.remove(w); // a call that fails leaves no waiter behind
            throw e;
        }
    }

    /**
     * A blocked call leaves if it still waits: at its deadline with its timed-out answer, or without
     * an answer when its client went away. A putter's bytes go back to the budget.
     */
    private void leave(Waiter w, boolean timedOut) {
        // A putter that leaves gives back room: the head putter may have been blocking smaller puts.
        change(after -> waiters.leave(w, timedOut, contents, memory, after));
    }

    // ---------------------------------------------------------------- the one transition

    /**
     * The one way the queue changes: {@code change} under the lock, then {@link #dispatch}; the
     * answers it added to {@code after} run once the lock is released. A change that throws is
     * refused and leaves the queue as it was.
     */
    private <T> T transition(Function<List<Runnable>, T> change) {
        List<Runnable> after = new ArrayList<>();
        T result;
        lock.lock();
        try {
            result = change.apply(after);
            dispatch(after);
        } finally {
            lock.unlock();
        }
        runAll(after);
        return result;
    }

    /** A {@link #transition} with no result. */
    private void change(Consumer<List<Runnable>> change) {
        transition(after -> {
            change.accept(after);
            return null;
        });
    }

    /** Reads (or counts) under the lock: nothing moves. */
    private <T> T locked(Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves items until nothing moves: from the head putter into the queue, from the queue to the
     * head taker. Then wakes what the new state allows: takers and consumers of a drained queue,
     * joiners once nothing is unfinished. After it, nothing more can move until the next change.
     */
    private void dispatch(List<Runnable> after) {
        boolean moved = true;
        while (moved) {
            moved = false;
            while (waiters.serveHead(contents, consumers, after)) {
                moved = true;
            }
            while (waiters.admitHead(contents, id.label(), after)) {
                moved = true;
            }
        }
        if (contents.drained()) {
            waiters.drainTakers(after);
            consumers.drained();
        }
        if (contents.unfinished() == 0) {
            waiters.joinersDone(after);
        }
    }

    /** Runs the answers of finished calls, each on its own: one failing does not stop the rest. */
    private static void runAll(List<Runnable> after) {
        for (Runnable r : after) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a queue callback failed", e);
            }
        }
    }
}
