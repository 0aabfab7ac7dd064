package dev.forkd.server.queue;

import dev.forkd.server.events.Event;
import dev.forkd.server.events.EventKind;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.memory.ReplySize;
import dev.forkd.server.queue.Outcomes.Delivery;
import dev.forkd.server.time.Timeout;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One server-held queue: a bounded FIFO of items, and the callers blocked on it.
 *
 * <p>Blocked callers are not threads but callbacks queued on this object: putters, takers (single
 * Take calls and Consume streams with credit) and joiners, each served first come, first served.
 * Every change runs {@link #dispatch} under the lock, which moves items from waiting putters into
 * the queue and from the queue to waiting takers until neither can move; the callbacks of calls it
 * finished run after the lock is released, so a callback may call back into the queue.
 * Consume sinks are the exception: they are told of deliveries under the lock, in order, and must
 * only hand them on (see {@link QueueConsumer.Sink}).
 *
 * <p>Capacity counts items delivered by Consume and not yet acked, so that putting them back at the
 * head when their consumer dies never overflows the bound.
 *
 * <p>The server's {@link MemoryBudget} is charged for a batch when it is put (waiting, queued or in
 * flight it is held) and refunded when its items leave: taken, acked, timed out, refused or deleted.
 * A put the budget cannot hold is refused at once and changes nothing. A reply or delivery ends
 * before its payload passes {@link ReplySize#MAX_BATCH_BYTES}; the rest stays queued.
 *
 * <p>What the queue holds, and what the budget and a durable queue's store are told as items come
 * and go, is {@link QueueContents}; this class is the blocked callers around it. A durable queue
 * answers a put once the store has committed its items: the thread that put them commits them once
 * the lock is released (see {@link QueueJournal#commit}), and the answer leaves from the commit's
 * callback.
 */
public final class ItemQueue {

    private static final Logger LOG = Logger.getLogger(ItemQueue.class.getName());

    private final String id;
    private final Optional<String> name;
    private final long maxsize;
    private final QueueLimits limits;
    private final ScheduledExecutorService timers;
    private final MemoryBudget memory;
    private final ReentrantLock lock = new ReentrantLock();

    private final QueueContents contents;
    private final ServerEvents events;
    private boolean deleted;
    private int producerStreams;

    private final ArrayDeque<PendingPut> putters = new ArrayDeque<>();
    private final ArrayDeque<Object> takers = new ArrayDeque<>(); // TakeCall or QueueConsumer
    private final List<JoinCall> joiners = new ArrayList<>();
    private final Set<QueueConsumer> consumers = new LinkedHashSet<>();

    ItemQueue(String id, Optional<String> name, long maxsize, QueueLimits limits, ScheduledExecutorService timers,
            MemoryBudget memory) {
        this(id, name, maxsize, limits, timers, memory, ServerEvents.NONE);
    }

    /** A queue that tells {@code events} when it is closed. */
    ItemQueue(String id, Optional<String> name, long maxsize, QueueLimits limits, ScheduledExecutorService timers,
            MemoryBudget memory, ServerEvents events) {
        this(id, name, maxsize, limits, timers, memory, events, QueueJournal.NONE);
    }

    /** A queue whose items {@code journal} keeps (a durable queue), or not ({@link QueueJournal#NONE}). */
    ItemQueue(String id, Optional<String> name, long maxsize, QueueLimits limits, ScheduledExecutorService timers,
            MemoryBudget memory, ServerEvents events, QueueJournal journal) {
        this.contents = new QueueContents(id, name, maxsize, limits.maxQueueBytes(), memory, journal);
        this.events = events;
        this.id = id;
        this.name = name;
        this.maxsize = maxsize;
        this.limits = limits;
        this.timers = timers;
        this.memory = memory;
    }

    public String id() {
        return id;
    }

    public Optional<String> name() {
        return name;
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
        lock.lock();
        try {
            return snapshotLocked();
        } finally {
            lock.unlock();
        }
    }

    private QueueSnapshot snapshotLocked() {
        int unaryPutters = (int) putters.stream().filter(p -> p.unary).count();
        int takeCalls = (int) takers.stream().filter(t -> t instanceof TakeCall).count();
        return contents.snapshot(producerStreams + unaryPutters, consumers.size() + takeCalls);
    }

    /** The definition as it is now, for the store; a durable queue's creation keeps it. */
    QueueRecords.Definition definition() {
        lock.lock();
        try {
            return contents.definition();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Puts back what the store kept of this queue, before anyone can call it: its items in order,
     * charged to the memory budget, and {@code undone} tasks taken but not marked done.
     *
     * @throws ForkdException.ResourceExhausted if the memory budget cannot hold the items
     */
    void restore(List<QueueEntry> stored, long nextSeq, long undone, boolean wasClosed) {
        lock.lock();
        try {
            contents.restore(stored, nextSeq, undone, wasClosed, label());
        } finally {
            lock.unlock();
        }
    }

    private String label() {
        return "queue \"" + name.orElse(id) + "\"";
    }

    private ForkdException closedError() {
        return new ForkdException.FailedPrecondition("QUEUE_CLOSED", label() + " is closed: no more puts",
                Map.of("queue", id));
    }

    private ForkdException deletedError() {
        return new ForkdException.FailedPrecondition("QUEUE_DELETED", label() + " was deleted",
                Map.of("queue", id));
    }

    private void requireLive() {
        if (deleted) {
            throw new ForkdException.NotFound("queue", name.orElse(id));
        }
    }

    private void requireWaiterRoom() {
        if (putters.size() + takers.size() + joiners.size() >= limits.maxWaiters()) {
            throw new ForkdException.ResourceExhausted("TOO_MANY_WAITERS", label() + " already has "
                    + limits.maxWaiters() + " blocked callers (the server's limit per queue)");
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
        long cost = limits.checkBatch(batch, "items");
        if (batch.size() > maxsize) {
            throw new ForkdException.InvalidArgument("items", "holds " + batch.size() + " items but "
                    + label() + " holds at most " + maxsize + " (its maxsize)");
        }
        if (cost > limits.maxQueueBytes()) {
            throw new ForkdException.InvalidArgument("items", "is " + cost + " bytes but a queue holds at most "
                    + limits.maxQueueBytes() + " bytes (the server's limit)");
        }
        return reserveAndEnqueue(new PendingPut(List.copyOf(batch), true, cost, done), timeout);
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
        PendingPut p = new PendingPut(List.copyOf(batch), false, cost, done);
        p.admitted = admitted;
        return reserveAndEnqueue(p, Optional.empty());
    }

    /** Charges the budget for the batch, then queues the putter; a refusal anywhere refunds it. */
    private Pending reserveAndEnqueue(PendingPut p, Optional<Duration> timeout) {
        memory.reserve(p.remainingBytes, p.batch.size() + (p.batch.size() == 1 ? " item" : " items")
                + " for " + label());
        try {
            return enqueuePutter(p, timeout);
        } catch (RuntimeException e) {
            memory.release(p.remainingBytes);
            throw e;
        }
    }

    /** A putter leaves without its remaining items: the budget gets their bytes back. */
    private void refund(PendingPut p) {
        memory.release(p.remainingBytes);
        p.remainingBytes = 0;
    }

    private Pending enqueuePutter(PendingPut p, Optional<Duration> timeout) {
        List<Runnable> after = new ArrayList<>();
        lock.lock();
        try {
            requireLive();
            if (contents.closed()) {
                throw closedError();
            }
            requireWaiterRoom();
            putters.addLast(p);
            dispatch(after);
            if (putters.contains(p)) {
                if (timeout.isPresent() && timeout.get().isZero()) {
                    putters.remove(p);
                    refund(p);
                    long size = contents.size();
                    after.add(() -> p.done.accept(new Outcomes.Put.TimedOut(size)));
                } else if (timeout.isPresent()) {
                    try {
                        p.timer = Timeout.schedule(timers, timeout.get(), () -> expirePutter(p)).orElse(null);
                    } catch (RuntimeException e) {
                        putters.remove(p); // a call that fails leaves no waiter behind
                        throw e;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        runAll(after);
        return () -> cancelPutter(p);
    }

    private void expirePutter(PendingPut p) {
        boolean expired;
        long size;
        List<Runnable> after = new ArrayList<>();
        lock.lock();
        try {
            // A partial producer never times out, so a putter that expires has put nothing.
            expired = putters.remove(p);
            size = contents.size();
            if (expired) {
                refund(p);
                dispatch(after); // the head may have been blocking smaller puts behind it
            }
        } finally {
            lock.unlock();
        }
        if (expired) {
            p.done.accept(new Outcomes.Put.TimedOut(size));
        }
        runAll(after);
    }

    private void cancelPutter(PendingPut p) {
        List<Runnable> after = new ArrayList<>();
        lock.lock();
        try {
            if (putters.remove(p)) {
                if (p.timer != null) {
                    p.timer.cancel(false);
                }
                refund(p);
                dispatch(after);
            }
        } finally {
            lock.unlock();
        }
        runAll(after);
    }

    /** Moves what it can from the head putter into the queue; true if it moved anything. */
    private boolean admitHead(List<Runnable> after) {
        PendingPut p = putters.peekFirst();
        if (p == null) {
            return false;
        }
        int from = p.next;
        if (p.unary) {
            if (!contents.fits(p.remaining(), p.remainingBytes)) {
                return false;
            }
            p.next = p.batch.size();
            p.remainingBytes = 0;
        } else {
            long taking = 0; // as much as fits, in order: the counts grow with each item taken
            while (p.remaining() > 0) {
                long cost = p.batch.get(p.next).cost();
                if (!contents.fits(p.next - from + 1, taking + cost)) {
                    break;
                }
                taking += cost;
                p.next++;
            }
            p.remainingBytes -= taking;
        }
        boolean moved = p.next > from;
        if (moved) {
            p.storing(contents.append(p.batch, from, p.next));
        }
        boolean whole = p.remaining() == 0;
        if (whole) {
            putters.pollFirst();
            p.cancelTimer();
            after.add(p.admitted); // before the answer, which may come at once
        }
        if (moved && contents.durable()) {
            after.add(contents::commitStore); // on this thread, once the lock is released
        }
        if (whole) {
            Outcomes.Put.Done result = new Outcomes.Put.Done(p.batch.size(), contents.size());
            CompletableFuture<Void> stored = p.stored;
            after.add(() -> answerOnceStored(stored, p.done, result));
        }
        return moved;
    }

    /**
     * Answers a put once the store has its items: at once for an in-memory queue, else from the
     * store's commit callback (never blocking the caller's thread).
     */
    private void answerOnceStored(CompletableFuture<Void> stored, Consumer<Outcomes.Put> done, Outcomes.Put.Done result) {
        if (stored == QueueJournal.STORED) {
            done.accept(result);
            return;
        }
        stored.whenComplete((ok, e) -> {
            try {
                done.accept(e == null ? result
                        : new Outcomes.Put.Failed(QueueJournal.storeFailed(e, result.put() + " items put to " + label())));
            } catch (RuntimeException failed) {
                LOG.log(Level.WARNING, "a queue callback failed", failed);
            }
        });
    }

    // ---------------------------------------------------------------- take

    /** A waiting Take call. */
    private final class TakeCall {
        final int max;
        final Consumer<Outcomes.Take> done;
        ScheduledFuture<?> timer;

        TakeCall(int max, Consumer<Outcomes.Take> done) {
            this.max = max;
            this.done = done;
        }
    }

    /**
     * Takes up to {@code max} items (at least one), waiting up to {@code timeout} while the queue is
     * empty. At-most-once: the items leave the queue when handed to {@code done}.
     */
    public Pending take(int max, Optional<Duration> timeout, Consumer<Outcomes.Take> done) {
        if (max < 1 || max > limits.maxBatch()) {
            throw new ForkdException.InvalidArgument("max_items",
                    "must be between 1 and " + limits.maxBatch() + " (the server's batch limit)");
        }
        TakeCall t = new TakeCall(max, done);
        List<Runnable> after = new ArrayList<>();
        lock.lock();
        try {
            requireLive();
            requireWaiterRoom();
            takers.addLast(t);
            dispatch(after);
            if (takers.contains(t)) {
                if (timeout.isPresent() && timeout.get().isZero()) {
                    takers.remove(t);
                    after.add(() -> done.accept(new Outcomes.Take.TimedOut()));
                } else if (timeout.isPresent()) {
                    try {
                        t.timer = Timeout.schedule(timers, timeout.get(), () -> expireTaker(t)).orElse(null);
                    } catch (RuntimeException e) {
                        takers.remove(t); // a call that fails leaves no waiter behind
                        throw e;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        runAll(after);
        return () -> cancelTaker(t);
    }

    private void expireTaker(TakeCall t) {
        boolean expired;
        lock.lock();
        try {
            expired = takers.remove(t);
        } finally {
            lock.unlock();
        }
        if (expired) {
            t.done.accept(new Outcomes.Take.TimedOut());
        }
    }

    private void cancelTaker(TakeCall t) {
        lock.lock();
        try {
            if (takers.remove(t) && t.timer != null) {
                t.timer.cancel(false);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Hands items to the head taker; true if it handed any. */
    private boolean serveHead(List<Runnable> after) {
        if (contents.isEmpty() || takers.isEmpty()) {
            return false;
        }
        Object head = takers.pollFirst();
        switch (head) {
            case TakeCall t -> {
                List<Item> got = contents.take(t.max);
                if (t.timer != null) {
                    t.timer.cancel(false);
                }
                after.add(() -> t.done.accept(new Outcomes.Take.Items(got)));
            }
            case QueueConsumer c -> {
                int max = Math.min(c.credit, limits.maxBatch());
                List<Delivery> batch = contents.deliver(max, c.unacked);
                c.credit -= batch.size();
                c.sink.deliver(batch);
                if (c.credit > 0) {
                    takers.addLast(c); // round robin among consumers with credit
                }
            }
            default -> throw new IllegalStateException("unknown taker " + head);
        }
        return true;
    }

    // ---------------------------------------------------------------- consume

    /**
     * Opens a Consume stream's consumer. It receives nothing until it is given credit.
     *
     * @param session the caller's session, whose end gives back what the consumer has not acked
     */
    public QueueConsumer consume(Optional<String> session, QueueConsumer.Sink sink) {
        List<Runnable> after = new ArrayList<>();
        QueueConsumer c = new QueueConsumer(this, session, sink);
        lock.lock();
        try {
            requireLive();
            consumers.add(c);
            dispatch(after); // a drained queue ends it at once
        } finally {
            lock.unlock();
        }
        runAll(after);
        return c;
    }

    void grant(QueueConsumer c, int credit) {
        if (credit < 0) {
            throw new ForkdException.InvalidArgument("credit", "must not be negative");
        }
        List<Runnable> after = new ArrayList<>();
        lock.lock();
        try {
            if (!consumers.contains(c) || credit == 0) {
                return;
            }
            boolean waiting = c.credit > 0;
            c.credit = (int) Math.min((long) c.credit + credit, limits.maxCredit());
            if (!waiting && c.credit > 0) {
                takers.addLast(c);
            }
            dispatch(after);
        } finally {
            lock.unlock();
        }
        runAll(after);
    }

    /**
     * Acks by tag and/or every tag up to {@code through} (0: none); returns how many it acked. Tags
     * not (or no longer) delivered to {@code c}, and repeats, are ignored.
     */
    int ack(QueueConsumer c, List<Long> tags, long through, boolean taskDone) {
        List<Runnable> after = new ArrayList<>();
        int acked = 0;
        lock.lock();
        try {
            if (!consumers.contains(c)) {
                return 0;
            }
            acked = contents.ack(c.unacked, tags, through, taskDone, this::tooManyDone);
            dispatch(after);
        } finally {
            lock.unlock();
        }
        runAll(after);
        return acked;
    }

    /**
     * Ends a consumer (its stream ended or its session did): what it has not acked goes back to the
     * head of the queue, in its order, ahead of everything else. Returns how many items went back.
     */
    int endConsumer(QueueConsumer c, Optional<Outcomes.ConsumerEnd> tell) {
        List<Runnable> after = new ArrayList<>();
        int back;
        lock.lock();
        try {
            if (!consumers.remove(c)) {
                return 0;
            }
            takers.remove(c);
            back = contents.putBack(c.unacked);
            c.credit = 0;
            tell.ifPresent(c.sink::end);
            dispatch(after);
        } finally {
            lock.unlock();
        }
        runAll(after);
        return back;
    }

    /** Gives back what the consumers of {@code session} have not acked, and ends them. */
    int releaseSession(String session) {
        List<QueueConsumer> owned;
        lock.lock();
        try {
            owned = consumers.stream().filter(c -> c.session.filter(session::equals).isPresent()).toList();
        } finally {
            lock.unlock();
        }
        int released = 0;
        for (QueueConsumer c : owned) {
            released += endConsumer(c, Optional.of(new Outcomes.ConsumerEnd.Failed(
                    new ForkdException.FailedPrecondition("SESSION_ENDED", "session \"" + session
                            + "\" ended; its unacked items went back to " + label(), Map.of("session", session)))));
        }
        return released;
    }

    // ---------------------------------------------------------------- producers

    /** A Produce stream started on this queue. */
    public void producerOpened() {
        lock.lock();
        try {
            producerStreams++;
        } finally {
            lock.unlock();
        }
    }

    /** A Produce stream on this queue ended. */
    public void producerClosed() {
        lock.lock();
        try {
            producerStreams--;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- join, task_done, close

    private final class JoinCall {
        final Consumer<Outcomes.Join> done;
        ScheduledFuture<?> timer;

        JoinCall(Consumer<Outcomes.Join> done) {
            this.done = done;
        }
    }

    private ForkdException tooManyDone(long n) {
        return new ForkdException.FailedPrecondition("TASK_DONE_TOO_MANY", "task_done of " + n
                + " on " + label() + " is more than its " + contents.unfinished()
                + " unfinished items (called too many times)", Map.of("queue", id, "count", Long.toString(n),
                        "unfinished", Long.toString(contents.unfinished())));
    }

    /** Marks {@code count} tasks done; returns how many remain unfinished. */
    public long taskDone(int count) {
        if (count < 1) {
            throw new ForkdException.InvalidArgument("count", "must be at least 1");
        }
        List<Runnable> after = new ArrayList<>();
        long left;
        lock.lock();
        try {
            requireLive();
            if (count > contents.unfinished()) {
                throw tooManyDone(count);
            }
            left = contents.taskDone(count);
            dispatch(after);
        } finally {
            lock.unlock();
        }
        runAll(after);
        return left;
    }

    /** Waits until every item put is marked done, up to {@code timeout}. */
    public Pending join(Optional<Duration> timeout, Consumer<Outcomes.Join> done) {
        JoinCall j = new JoinCall(done);
        List<Runnable> after = new ArrayList<>();
        lock.lock();
        try {
            requireLive();
            if (contents.unfinished() == 0) {
                after.add(() -> done.accept(new Outcomes.Join.Done()));
            } else if (timeout.isPresent() && timeout.get().isZero()) {
                long left = contents.unfinished();
                after.add(() -> done.accept(new Outcomes.Join.TimedOut(left)));
            } else {
                requireWaiterRoom();
                // Scheduled before the joiner is registered, so a failure leaves no waiter behind;
                // the expiry takes the lock held here, so it cannot run before the add.
                if (timeout.isPresent()) {
                    j.timer = Timeout.schedule(timers, timeout.get(), () -> expireJoiner(j)).orElse(null);
                }
                joiners.add(j);
            }
        } finally {
            lock.unlock();
        }
        runAll(after);
        return () -> {
            lock.lock();
            try {
                if (joiners.remove(j) && j.timer != null) {
                    j.timer.cancel(false);
                }
            } finally {
                lock.unlock();
            }
        };
    }

    private void expireJoiner(JoinCall j) {
        boolean expired;
        long left;
        lock.lock();
        try {
            expired = joiners.remove(j);
            left = contents.unfinished();
        } finally {
            lock.unlock();
        }
        if (expired) {
            j.done.accept(new Outcomes.Join.TimedOut(left));
        }
    }

    /** No more puts; blocked putters fail; takers drain, then learn it is closed. */
    public QueueSnapshot close() {
        List<Runnable> after = new ArrayList<>();
        QueueSnapshot snap;
        lock.lock();
        try {
            requireLive();
            if (!contents.closed()) {
                contents.close();
                events.happened(Event.of(EventKind.QUEUE_CLOSED, id, name,
                        Map.of("size", Long.toString(contents.size()), "in_flight", Long.toString(contents.inFlight()))));
                ForkdException err = closedError();
                for (PendingPut p : putters) {
                    if (p.timer != null) {
                        p.timer.cancel(false);
                    }
                    refund(p);
                    after.add(() -> p.done.accept(new Outcomes.Put.Failed(err)));
                }
                putters.clear();
                dispatch(after);
            }
            snap = snapshotLocked();
        } finally {
            lock.unlock();
        }
        runAll(after);
        return snap;
    }

    /** Drops everything and fails every blocked caller; returns how many items were dropped. */
    long delete() {
        List<Runnable> after = new ArrayList<>();
        long dropped;
        lock.lock();
        try {
            if (deleted) {
                return 0;
            }
            deleted = true;
            dropped = contents.drop();
            ForkdException err = deletedError();
            for (PendingPut p : putters) {
                cancelTimer(p.timer);
                refund(p);
                after.add(() -> p.done.accept(new Outcomes.Put.Failed(err)));
            }
            for (Object t : takers) {
                if (t instanceof TakeCall tc) {
                    cancelTimer(tc.timer);
                    after.add(() -> tc.done.accept(new Outcomes.Take.Failed(err)));
                }
            }
            for (JoinCall j : joiners) {
                cancelTimer(j.timer);
                after.add(() -> j.done.accept(new Outcomes.Join.Failed(err)));
            }
            for (QueueConsumer c : consumers) {
                c.unacked.clear();
                c.sink.end(new Outcomes.ConsumerEnd.Failed(err));
            }
            putters.clear();
            takers.clear();
            joiners.clear();
            consumers.clear();
        } finally {
            lock.unlock();
        }
        runAll(after);
        return dropped;
    }

    private static void cancelTimer(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    // ---------------------------------------------------------------- the one transition

    /**
     * Moves items until nothing moves: from the head putter into the queue, from the queue to the
     * head taker. Then wakes what the new state allows: takers and consumers of a drained queue,
     * joiners once nothing is unfinished. Called under the lock after every change.
     */
    private void dispatch(List<Runnable> after) {
        boolean moved = true;
        while (moved) {
            moved = false;
            while (serveHead(after)) {
                moved = true;
            }
            while (admitHead(after)) {
                moved = true;
            }
        }
        if (contents.drained()) {
            for (Object t : takers) {
                if (t instanceof TakeCall tc) {
                    cancelTimer(tc.timer);
                    after.add(() -> tc.done.accept(new Outcomes.Take.Drained()));
                }
            }
            takers.clear();
            for (QueueConsumer c : consumers) {
                c.credit = 0;
                c.sink.end(new Outcomes.ConsumerEnd.Drained());
            }
            consumers.clear();
        }
        if (contents.unfinished() == 0 && !joiners.isEmpty()) {
            for (JoinCall j : joiners) {
                cancelTimer(j.timer);
                after.add(() -> j.done.accept(new Outcomes.Join.Done()));
            }
            joiners.clear();
        }
    }

    /** Runs the callbacks of finished calls, each on its own: one failing does not stop the rest. */
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
