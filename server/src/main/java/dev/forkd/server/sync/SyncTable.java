package dev.forkd.server.sync;

import static dev.forkd.server.sync.Primitive.BROKEN;
import static dev.forkd.server.sync.Primitive.FILLING;
import static dev.forkd.server.sync.Primitive.FREE;

import dev.forkd.server.error.FreeNames;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.EventKind;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.ForkdException.NotFound;
import dev.forkd.server.error.ForkdException.ResourceExhausted;
import dev.forkd.server.sync.SyncResults.BarrierPassed;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.ConditionWoken;
import dev.forkd.server.sync.SyncResults.Grant;
import dev.forkd.server.sync.SyncResults.Info;
import dev.forkd.server.sync.SyncResults.Pending;
import dev.forkd.server.sync.SyncResults.Released;
import dev.forkd.server.sync.SyncResults.Undone;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.sync.Primitive.Barrier;
import dev.forkd.server.sync.Primitive.BarrierState;
import dev.forkd.server.sync.Primitive.Condition;
import dev.forkd.server.sync.Primitive.Event;
import dev.forkd.server.sync.Primitive.LockState;
import dev.forkd.server.sync.Primitive.Mutex;
import dev.forkd.server.sync.Primitive.Semaphore;
import dev.forkd.server.time.Timeout;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Named locks, semaphores, events, conditions and barriers, owned by sessions.
 *
 * <p>One monitor guards all of it: every critical section is a few field updates, so one lock
 * costs less than the gRPC call around it, and a condition can move waiters between its own
 * queue and its lock's atomically. Waiters are records in FIFO queues, completed by callbacks;
 * no thread waits. Callbacks run after the monitor is released and after the change they tell of
 * is in the store ({@link SyncJournal}): on the thread that caused them, or the store's.
 *
 * <p>Owners are session ids. The session-alive check and the session-end hook both run under the
 * monitor, so a grant can never go to a session whose end was already handled.
 */
public final class SyncTable {

    /** Bounds: names in the table, and waiters per name. */
    public record Limits(int maxNames, int maxWaitersPerName) {
        public static final Limits DEFAULT = new Limits(10_000, 10_000);
    }
    public static final int MAX_SEMAPHORE_VALUE = 1_000_000;
    /** A semaphore's initial permits when the caller gives none (Python's default). */
    public static final int DEFAULT_SEMAPHORE_VALUE = 1;
    public static final int MAX_PARTIES = 10_000;

    private final ScheduledExecutorService timers;
    private final Predicate<String> sessionAlive;
    private final Limits limits;
    private final ServerEvents events;
    private final LongSupplier nanoTime;
    private final Map<String, Primitive> byName = new TreeMap<>();
    /** What each session touched (held or waited on), so its end finds it without a scan. */
    private final Map<String, Set<Primitive>> touchedBy = new HashMap<>();
    /** Keeps the primitives and the fencing counter (one for every grant, so tokens never repeat). */
    private final SyncJournal journal;
    /** What became of Acquires that carried a wait id, for CancelAcquire. */
    private final WaitIds waitIds = new WaitIds(WaitIds.DEFAULT_MAX);

    public SyncTable(ScheduledExecutorService timers, Predicate<String> sessionAlive, Limits limits) {
        this(timers, sessionAlive, limits, ServerEvents.NONE, System::nanoTime);
    }

    /**
     * A table that tells {@code events} of every lock and permit grant (with how long it waited, on
     * the monotonic clock {@code nanoTime}) and every barrier that breaks.
     */
    public SyncTable(ScheduledExecutorService timers, Predicate<String> sessionAlive, Limits limits,
            ServerEvents events, LongSupplier nanoTime) {
        this(timers, sessionAlive, limits, events, nanoTime, StateStore.none());
    }

    /**
     * A table kept in {@code store}: it starts with what the store holds. A holder whose session is
     * no longer alive (it ended while the server was down, or its end was kept before its releases)
     * is released at once, and the lock passes on abandoned.
     */
    public SyncTable(ScheduledExecutorService timers, Predicate<String> sessionAlive, Limits limits,
            ServerEvents events, LongSupplier nanoTime, StateStore store) {
        this.events = events;
        this.nanoTime = nanoTime;
        this.timers = timers;
        this.sessionAlive = sessionAlive;
        this.limits = limits;
        this.journal = new SyncJournal(store);
        for (Primitive p : journal.load()) {
            byName.put(p.name, p);
            switch (p) {
                case Mutex m when m.state instanceof LockState.Held h -> touch(h.owner(), m);
                case Semaphore sem -> sem.held.keySet().forEach(owner -> touch(owner, sem));
                default -> {}
            }
        }
        List.copyOf(touchedBy.keySet()).stream().filter(owner -> !sessionAlive.test(owner))
                .forEach(this::sessionEnded);
    }

    /**
     * Completes once every change answered so far is in the store: a caller told of a change by a
     * method's return value (a release, a set event) answers its client after this.
     */
    public synchronized CompletableFuture<Void> committed() {
        return journal.committed();
    }

    /** Writes what {@code fx} changed (under the monitor, so writes keep their order), then tells. */
    private void settle(Effects fx) {
        if (journal.keeps() && !fx.changed.isEmpty()) {
            synchronized (this) {
                journal.flush(fx, byName);
            }
        }
        fx.run();
    }

    // ---- create, get, list, delete ---------------------------------------------------------

    /** Creates a primitive; ALREADY_EXISTS if the name is taken. */
    public Info create(String name, SyncKind kind, int value, int parties, String lock) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                FreeNames.check(name);
                if (byName.containsKey(name)) {
                    throw new ForkdException.AlreadyExists(byName.get(name).kind().words(), name);
                }
                return SyncViews.info(newPrimitive(name, kind, value, parties, lock, fx));
            }
        } finally {
            settle(fx);
        }
    }

    public synchronized Info get(String name) {
        return SyncViews.info(require(name));
    }

    public synchronized List<Info> list(Optional<SyncKind> kind) {
        return byName.values().stream().filter(p -> kind.isEmpty() || p.kind() == kind.get())
                .map(SyncViews::info).toList();
    }

    /** Forgets a primitive nobody holds or waits on. */
    public SyncKind delete(String name) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                Primitive p = require(name);
                if (!p.idle()) {
                    throw new FailedPrecondition("SYNC_IN_USE", p.kind().words() + " \"" + name
                            + "\" is held or waited on; release it first", Map.of("name", name));
                }
                byName.remove(name);
                fx.changed(p);
                return p.kind();
            }
        } finally {
            settle(fx);
        }
    }

    // ---- locks and semaphores ----------------------------------------------------------------

    /**
     * Acquires a lock or a semaphore permit for {@code owner}.
     *
     * @param kindIfNew the kind to create if the name is new, or to require if it exists; empty
     *     accepts any lock or semaphore and creates a Lock
     * @param value a semaphore's initial permits when created here (0: default 1; else must match)
     * @param timeout empty waits for ever; zero only tries
     */
    public Pending acquire(String name, Optional<SyncKind> kindIfNew, int value, String owner,
            Optional<Duration> timeout, Callback<Grant> done) {
        return acquire(name, kindIfNew, value, owner, timeout, "", done);
    }

    /**
     * An Acquire that {@link #cancelAcquire} can undo by its {@code waitId} (empty: no id).
     */
    public Pending acquire(String name, Optional<SyncKind> kindIfNew, int value, String owner,
            Optional<Duration> timeout, String waitId, Callback<Grant> answer) {
        Effects fx = new Effects();
        Pending pending = Pending.NONE;
        Callback<Grant> done = WaitIds.track(owner, waitId, answer);
        try {
            synchronized (this) {
                FreeNames.check(name);
                if (kindIfNew.isPresent() && !kindIfNew.get().isLock() && !kindIfNew.get().isSemaphore()) {
                    throw new InvalidArgument("kind", "must be a lock or semaphore kind to acquire, not "
                            + kindIfNew.get().withArticle());
                }
                WaitIds.check("wait_id", waitId, false);
                requireOwner(owner);
                if (!waitId.isEmpty() && waitIds.cancelledEarly(owner, waitId)) {
                    fx.add(() -> done.done(Grant.TIMED_OUT)); // its caller gave up before it came
                    return Pending.NONE;
                }
                Primitive p = byName.get(name);
                if (p == null) {
                    p = newPrimitive(name, kindIfNew.orElse(SyncKind.LOCK), value == 0 ? DEFAULT_SEMAPHORE_VALUE : value, 0, "",
                            fx);
                } else if (kindIfNew.isPresent()) {
                    SyncViews.requireKind(p, kindIfNew.get());
                } else if (!p.kind().isLock() && !p.kind().isSemaphore()) {
                    throw SyncViews.wrongKind(p, "a lock or semaphore");
                }
                switch (p) {
                    case Mutex m -> {
                        if (m.state instanceof LockState.Held h && h.owner().equals(owner) && m.reentrant) {
                            m.state = new LockState.Held(owner, h.depth() + 1, h.token());
                            fx.changed(m);
                            tellGranted(fx, done, new Grant(true, h.token(), false, h.depth() + 1), m.name, owner);
                        } else if (m.state instanceof LockState.Free && m.waiters.isEmpty()) {
                            touch(owner, m);
                            tellGranted(fx, done, grantMutex(m, owner, 1, nanoTime.getAsLong(), fx), m.name, owner);
                        } else if (timeout.isPresent() && timeout.get().isZero()) {
                            fx.add(() -> done.done(Grant.TIMED_OUT));
                        } else {
                            touch(owner, m);
                            Waiter w = newWaiter(owner);
                            w.onGrant = done;
                            pending = enqueue(m, w, timeout);
                        }
                    }
                    case Semaphore s -> {
                        if (value != 0 && value != s.initial) {
                            throw new FailedPrecondition("SEMAPHORE_VALUE_MISMATCH", s.kind().words() + " \""
                                    + name + "\" was created with value " + s.initial + ", not " + value);
                        }
                        if (s.value > 0 && s.waiters.isEmpty()) {
                            touch(owner, s);
                            tellGranted(fx, done, grantPermit(s, owner, nanoTime.getAsLong(), fx), s.name, owner);
                        } else if (timeout.isPresent() && timeout.get().isZero()) {
                            fx.add(() -> done.done(Grant.TIMED_OUT));
                        } else {
                            touch(owner, s);
                            Waiter w = newWaiter(owner);
                            w.onGrant = done;
                            pending = enqueue(s, w, timeout);
                        }
                    }
                    default -> throw new IllegalStateException("checked above");
                }
            }
        } finally {
            settle(fx);
        }
        return pending;
    }

    /** Releases a lock held by {@code owner}, or one semaphore permit. */
    public Released release(String name, String owner) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                return releaseHeld(require(name), owner, fx);
            }
        } finally {
            settle(fx);
        }
    }

    /**
     * Undoes the Acquire of {@code owner} that carried {@code waitId}, whatever became of it: stops
     * its wait (it answers acquired=false), releases its grant if the owner still holds what it was
     * granted, or, if nothing is known of it yet, makes it answer acquired=false when it comes.
     */
    public Undone cancelAcquire(String name, String owner, String waitId) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                FreeNames.check(name);
                WaitIds.check("wait_id", waitId, true);
                requireOwner(owner);
                Primitive p = byName.get(name);
                if (p != null) {
                    for (Iterator<Waiter> it = p.waiters.iterator(); it.hasNext(); ) {
                        Waiter w = it.next();
                        if (w.onGrant instanceof WaitIds.Tracked t && t.key().equals(new WaitIds.Key(owner, waitId))) {
                            it.remove();
                            finish(w, fx);
                            fx.add(() -> w.onGrant.done(Grant.TIMED_OUT));
                            return new Undone(true, false);
                        }
                    }
                }
                var grant = waitIds.takeGrant(owner, waitId);
                if (grant.isPresent()) {
                    boolean stillHeld = grant.get().name().equals(name) && switch (p) {
                        case Mutex m -> m.state instanceof LockState.Held h && h.owner().equals(owner)
                                && h.token() == grant.get().token();
                        case Semaphore s -> s.held.containsKey(owner);
                        case null, default -> false;
                    };
                    if (stillHeld) {
                        releaseHeld(p, owner, fx);
                    }
                    return new Undone(false, stillHeld);
                }
                waitIds.cancelEarly(owner, waitId);
                return new Undone(false, false);
            }
        } finally {
            settle(fx);
        }
    }

    /** Releases what {@code owner} holds of {@code p}; under the monitor. */
    private Released releaseHeld(Primitive p, String owner, Effects fx) {
        String name = p.name;
        switch (p) {
            case Mutex m -> {
                requireOwner(owner);
                if (!(m.state instanceof LockState.Held h) || !h.owner().equals(owner)) {
                    String who = m.state instanceof LockState.Held h2
                            ? "held by another session (" + h2.owner() + ")" : "not held";
                    throw new FailedPrecondition("LOCK_NOT_HELD", m.kind().words() + " \"" + name
                            + "\" is " + who + "; only its holder may release it",
                            Map.of("name", name));
                }
                if (h.depth() > 1) {
                    m.state = new LockState.Held(owner, h.depth() - 1, h.token());
                    fx.changed(m);
                    return new Released(h.depth() - 1, 0);
                }
                passOn(m, fx);
                return new Released(0, 0);
            }
            case Semaphore s -> {
                if (s.bounded && s.value >= s.initial) {
                    throw new FailedPrecondition("SEMAPHORE_OVER_BOUND", "bounded semaphore \"" + name
                            + "\" is already at its bound " + s.initial + "; release without acquire",
                            Map.of("name", name, "bound", Integer.toString(s.initial)));
                }
                returnPermit(s, owner);
                s.value++;
                fx.changed(s);
                wakeSemaphore(s, fx);
                return new Released(0, s.value);
            }
            default -> throw SyncViews.wrongKind(p, "a lock or semaphore");
        }
    }

    /**
     * Whose permit a release returns: the releaser's own if it holds one; else, as any caller may
     * release (like Python), the oldest holder's, which that session's end then does not return a
     * second time; else nobody's (a plain semaphore then rises above its initial value, as in Python).
     */
    private static void returnPermit(Semaphore s, String owner) {
        String from = s.held.containsKey(owner) ? owner
                : s.held.isEmpty() ? null : s.held.keySet().iterator().next();
        if (from != null) {
            s.held.computeIfPresent(from, (k, n) -> n > 1 ? n - 1 : null);
        }
    }

    private Grant grantMutex(Mutex m, String owner, int depth, long since, Effects fx) {
        long token = journal.nextToken();
        fx.changed(m);
        m.lastToken = token;
        m.state = new LockState.Held(owner, depth, token);
        boolean abandoned = m.abandoned;
        m.abandoned = false;
        granted(m, owner, token, abandoned, since);
        return new Grant(true, token, abandoned, depth);
    }

    private Grant grantPermit(Semaphore s, String owner, long since, Effects fx) {
        long token = journal.nextToken();
        fx.changed(s);
        s.lastToken = token;
        s.value--;
        s.held.merge(owner, 1, Integer::sum);
        boolean abandoned = s.abandoned;
        s.abandoned = false;
        granted(s, owner, token, abandoned, since);
        return new Grant(true, token, abandoned, 1);
    }

    private void granted(Primitive p, String owner, long token, boolean abandoned, long since) {
        events.happened(new dev.forkd.server.events.Event(EventKind.LOCK_GRANTED, p.name, Optional.of(p.name),
                Map.of(), Map.of("lock_kind", p.kind().name().toLowerCase(java.util.Locale.ROOT),
                        "fencing_token", Long.toString(token), "abandoned", Boolean.toString(abandoned)),
                Optional.of(Duration.ofNanos(Math.max(0, nanoTime.getAsLong() - since))), Optional.empty(),
                owner.isEmpty() ? Optional.empty() : Optional.of(owner)));
    }

    /** The lock becomes free, or goes straight to its first waiter. */
    private void passOn(Mutex m, Effects fx) {
        m.state = FREE;
        fx.changed(m);
        Waiter w = m.waiters.poll();
        if (w == null) {
            return;
        }
        Grant g = grantMutex(m, w.owner, w.depth, w.since, fx);
        finish(w, fx);
        if (w.onCondition != null) {
            tell(fx, w.onCondition, new ConditionWoken(w.notified, g.fencingToken(), g.abandoned()));
        } else {
            tellGranted(fx, w.onGrant, g, m.name, w.owner);
        }
    }

    private void wakeSemaphore(Semaphore s, Effects fx) {
        while (s.value > 0 && !s.waiters.isEmpty()) {
            Waiter w = s.waiters.poll();
            Grant g = grantPermit(s, w.owner, w.since, fx);
            finish(w, fx);
            tellGranted(fx, w.onGrant, g, s.name, w.owner);
        }
    }

    // ---- events ------------------------------------------------------------------------------

    /** Sets the event (created if new) and wakes every waiter; answers how many. */
    public int setEvent(String name) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                Event e = event(name, fx);
                e.set = true;
                fx.changed(e);
                int n = e.waiters.size();
                for (Waiter w; (w = e.waiters.poll()) != null; ) {
                    finish(w, fx);
                    Callback<Boolean> cb = w.onEvent;
                    fx.add(() -> cb.done(true));
                }
                return n;
            }
        } finally {
            settle(fx);
        }
    }

    public void clearEvent(String name) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                Event e = event(name, fx);
                e.set = false;
                fx.changed(e);
            }
        } finally {
            settle(fx);
        }
    }

    /** Answers {@code true} once the event is set, {@code false} if the timeout passes first. */
    public Pending waitEvent(String name, Optional<Duration> timeout, Callback<Boolean> done) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                Event e = event(name, fx);
                if (!e.set && !(timeout.isPresent() && timeout.get().isZero())) {
                    Waiter w = newWaiter("");
                    w.onEvent = done;
                    return enqueue(e, w, timeout);
                }
                tell(fx, done, e.set);
                return Pending.NONE;
            }
        } finally {
            settle(fx);
        }
    }

    private Event event(String name, Effects fx) {
        FreeNames.check(name);
        Primitive p = byName.get(name);
        if (p == null) {
            return (Event) newPrimitive(name, SyncKind.EVENT, 0, 0, "", fx);
        }
        return switch (p) {
            case Event e -> e;
            default -> throw SyncViews.wrongKind(p, SyncKind.EVENT.withArticle());
        };
    }

    // ---- conditions --------------------------------------------------------------------------

    /**
     * Condition.wait: releases the bound lock (which {@code owner} must hold), waits for a notify
     * or the timeout, then re-acquires the lock at the same depth before answering.
     */
    public Pending waitCondition(String name, String lock, String owner, Optional<Duration> timeout,
            Callback<ConditionWoken> done) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                requireOwner(owner);
                Condition c = condition(name, lock, fx);
                Mutex m = conditionLock(c, fx);
                LockState.Held h = requireHolder(c, m, owner, "wait on");
                touch(owner, c);
                Waiter w = newWaiter(owner);
                w.depth = h.depth();
                w.onCondition = done;
                // Checked before the lock is given up: a refused wait still holds its lock.
                requireWaiterRoom(c);
                passOn(m, fx); // release fully; the next holder may now notify us
                if (timeout.isPresent() && timeout.get().isZero()) {
                    requeueForLock(m, w, fx);
                    return Pending.NONE;
                }
                return enqueue(c, w, timeout);
            }
        } finally {
            settle(fx);
        }
    }

    /** Condition.notify(n) or notify_all: moves waiters to the lock's queue; answers how many. */
    public int notifyCondition(String name, String lock, String owner, int n, boolean all) {
        Effects made = new Effects(); // the condition and its lock, if this call creates them
        try {
            synchronized (this) {
                return notifyCondition(name, lock, owner, n, all, made);
            }
        } finally {
            settle(made);
        }
    }

    /** The caller holds the lock, so nobody is granted it here: only a created condition is kept. */
    private int notifyCondition(String name, String lock, String owner, int n, boolean all, Effects made) {
        requireOwner(owner);
        Condition c = condition(name, lock, made);
        Mutex m = conditionLock(c, made);
        requireHolder(c, m, owner, "notify");
        int woken = 0;
        while ((all || woken < n) && !c.waiters.isEmpty()) {
            Waiter w = c.waiters.poll();
            if (w.timer != null) {
                w.timer.cancel(false);
                w.timer = null;
            }
            w.notified = true;
            requeueForLock(m, w, made);
            woken++;
        }
        return woken;
    }

    private Condition condition(String name, String lock, Effects fx) {
        FreeNames.check(name);
        Primitive p = byName.get(name);
        if (p == null) {
            return (Condition) newPrimitive(name, SyncKind.CONDITION, 0, 0, lock, fx);
        }
        return switch (p) {
            case Condition c -> {
                if (!lock.isEmpty() && !lock.equals(c.lock)) {
                    throw new FailedPrecondition("CONDITION_LOCK_MISMATCH", "condition \"" + name
                            + "\" is bound to lock \"" + c.lock + "\", not \"" + lock + "\"");
                }
                yield c;
            }
            default -> throw SyncViews.wrongKind(p, SyncKind.CONDITION.withArticle());
        };
    }

    private Mutex conditionLock(Condition c, Effects fx) {
        Primitive p = byName.get(c.lock);
        if (p == null) {
            return (Mutex) newPrimitive(c.lock, SyncKind.RLOCK, 0, 0, "", fx);
        }
        return switch (p) {
            case Mutex m -> m;
            default -> throw SyncViews.wrongKind(p, "a lock (condition \"" + c.name + "\" is bound to it)");
        };
    }

    private static LockState.Held requireHolder(Condition c, Mutex m, String owner, String verb) {
        if (m.state instanceof LockState.Held h && h.owner().equals(owner)) {
            return h;
        }
        throw new FailedPrecondition("LOCK_NOT_HELD", "cannot " + verb + " condition \"" + c.name
                + "\" without holding its lock \"" + m.name + "\"", Map.of("name", c.name, "lock", m.name));
    }

    /** A condition waiter (notified or timed out) waits for the lock without a timeout. */
    private void requeueForLock(Mutex m, Waiter w, Effects fx) {
        touch(w.owner, m);
        w.queue = m;
        m.waiters.add(w);
        if (m.state instanceof LockState.Free && m.waiters.size() == 1) {
            passOn(m, fx);
        }
    }

    // ---- barriers ----------------------------------------------------------------------------

    /**
     * Barrier.wait: answers the arrival index once {@code parties} callers have arrived, or
     * broken. A timeout breaks the barrier; so does a waiting session that ends.
     *
     * @param parties the parties when this call creates the barrier (0: it must exist); else 0 or equal
     */
    public Pending waitBarrier(String name, int parties, String owner, Optional<Duration> timeout,
            Callback<BarrierPassed> done) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                FreeNames.check(name);
                Primitive p = byName.get(name);
                if (p == null) {
                    if (parties <= 0) {
                        throw new InvalidArgument("parties", "is required to create barrier \"" + name
                                + "\" (1-" + MAX_PARTIES + ")");
                    }
                    p = newPrimitive(name, SyncKind.BARRIER, 0, parties, "", fx);
                }
                if (!(p instanceof Barrier b)) {
                    throw SyncViews.wrongKind(p, SyncKind.BARRIER.withArticle());
                }
                if (parties != 0 && parties != b.parties) {
                    throw new FailedPrecondition("BARRIER_PARTIES_MISMATCH", "barrier \"" + name + "\" has "
                            + b.parties + " parties, not " + parties);
                }
                if (b.state instanceof BarrierState.Broken) {
                    tell(fx, done, new BarrierPassed(0, true, false));
                    return Pending.NONE;
                }
                int index = b.waiters.size();
                if (index + 1 == b.parties) {
                    for (Waiter w; (w = b.waiters.poll()) != null; ) {
                        finish(w, fx);
                        tell(fx, w.onBarrier, new BarrierPassed(w.index, false, false));
                    }
                    tell(fx, done, new BarrierPassed(index, false, false));
                    return Pending.NONE;
                }
                Waiter w = newWaiter(owner != null && sessionAlive.test(owner) ? owner : "");
                w.index = index;
                w.onBarrier = done;
                if (!w.owner.isEmpty()) {
                    touch(w.owner, b);
                }
                if (timeout.isPresent() && timeout.get().isZero()) {
                    breakBarrier(b, Optional.empty(), fx);
                    tell(fx, done, new BarrierPassed(0, true, true));
                    return Pending.NONE;
                }
                return enqueue(b, w, timeout);
            }
        } finally {
            settle(fx);
        }
    }

    /** Breaks the barrier; answers how many waiters were told. */
    public int abortBarrier(String name) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                Barrier b = barrier(name);
                int n = b.waiters.size();
                breakBarrier(b, Optional.empty(), fx);
                return n;
            }
        } finally {
            settle(fx);
        }
    }

    /** Back to empty and unbroken; current waiters are told it broke. */
    public int resetBarrier(String name) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                Barrier b = barrier(name);
                int n = b.waiters.size();
                breakBarrier(b, Optional.empty(), fx);
                b.state = FILLING; // BROKEN -> FILLING
                fx.changed(b);
                return n;
            }
        } finally {
            settle(fx);
        }
    }

    private Barrier barrier(String name) {
        Primitive p = require(name);
        if (p instanceof Barrier b) {
            return b;
        }
        throw SyncViews.wrongKind(p, SyncKind.BARRIER.withArticle());
    }

    /** FILLING -> BROKEN: every waiter is told (the one whose timeout did it, as timed out). */
    private void breakBarrier(Barrier b, Optional<Waiter> timedOut, Effects fx) {
        if (b.state instanceof BarrierState.Filling) {
            events.happened(dev.forkd.server.events.Event.of(EventKind.BARRIER_BROKEN, b.name, Optional.of(b.name),
                    Map.of("parties", Integer.toString(b.parties), "waiting", Integer.toString(b.waiters.size()),
                            "timed_out", Boolean.toString(timedOut.isPresent()))));
        }
        b.state = BROKEN;
        fx.changed(b);
        for (Waiter w; (w = b.waiters.poll()) != null; ) {
            finish(w, fx);
            tell(fx, w.onBarrier, new BarrierPassed(0, true, timedOut.isPresent() && timedOut.get() == w));
        }
    }

    // ---- sessions ----------------------------------------------------------------------------

    /**
     * A session ended: its locks pass on (abandoned), its permits come back, its waits end and a
     * barrier it waited at breaks. Answers how many holds were released.
     */
    public int sessionEnded(String session) {
        Effects fx = new Effects();
        int released = 0;
        try {
            synchronized (this) {
                Set<Primitive> touched = touchedBy.remove(session);
                if (touched == null) {
                    return 0;
                }
                ForkdException gone = new FailedPrecondition("SESSION_ENDED",
                        "session " + session + " ended while waiting");
                for (Primitive p : touched) {
                    boolean barrierParty = false;
                    for (Iterator<Waiter> it = p.waiters.iterator(); it.hasNext(); ) {
                        Waiter w = it.next();
                        if (w.owner.equals(session)) {
                            it.remove();
                            barrierParty |= p instanceof Barrier;
                            finish(w, fx);
                            fx.add(() -> fail(w, gone));
                        }
                    }
                    switch (p) {
                        case Mutex m -> {
                            if (m.state instanceof LockState.Held h && h.owner().equals(session)) {
                                m.abandoned = true;
                                passOn(m, fx);
                                released++;
                            }
                        }
                        case Semaphore s -> {
                            Integer n = s.held.remove(session);
                            if (n != null) {
                                s.value = s.bounded ? Math.min(s.initial, s.value + n) : s.value + n;
                                s.abandoned = true;
                                fx.changed(s);
                                released += n;
                                wakeSemaphore(s, fx);
                            }
                        }
                        case Barrier b -> {
                            if (barrierParty) {
                                breakBarrier(b, Optional.empty(), fx);
                            }
                        }
                        case Event e -> {}
                        case Condition c -> {}
                    }
                }
            }
        } finally {
            settle(fx);
        }
        return released;
    }

    private static void fail(Waiter w, ForkdException e) {
        if (w.onGrant != null) {
            w.onGrant.failed(e);
        } else if (w.onCondition != null) {
            w.onCondition.failed(e);
        } else if (w.onEvent != null) {
            w.onEvent.failed(e);
        } else if (w.onBarrier != null) {
            // A barrier party that died: its own call is answered "broken".
            w.onBarrier.done(new BarrierPassed(0, true, false));
        }
    }

    // ---- waiting -----------------------------------------------------------------------------

    /**
     * Queues a waiter. Everything that can fail runs before it joins the queue, so a call that fails
     * leaves no waiter behind; the timer cannot fire early, as it needs the monitor held here.
     */
    private Pending enqueue(Primitive p, Waiter w, Optional<Duration> timeout) {
        requireWaiterRoom(p);
        w.queue = p;
        if (timeout.isPresent()) {
            w.timer = Timeout.schedule(timers, timeout.get(), () -> timedOut(w)).orElse(null);
        }
        p.waiters.add(w);
        return w;
    }

    private void requireWaiterRoom(Primitive p) {
        if (p.waiters.size() >= limits.maxWaitersPerName()) {
            throw new ResourceExhausted("TOO_MANY_WAITERS", p.kind().words() + " \"" + p.name + "\" already has "
                    + p.waiters.size() + " waiters (max " + limits.maxWaitersPerName() + ")");
        }
    }

    private void timedOut(Waiter w) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                if (w.done) {
                    return;
                }
                w.timer = null;
                switch (w.queue) {
                    case Condition c -> {
                        c.waiters.remove(w);
                        w.notified = false;
                        requeueForLock(conditionLock(c, fx), w, fx);
                    }
                    case Barrier b -> breakBarrier(b, Optional.of(w), fx);
                    case Event e -> {
                        e.waiters.remove(w);
                        finish(w, fx);
                        Callback<Boolean> cb = w.onEvent;
                        fx.add(() -> cb.done(false));
                    }
                    case Mutex m -> {
                        m.waiters.remove(w);
                        finish(w, fx);
                        Callback<Grant> cb = w.onGrant;
                        fx.add(() -> cb.done(Grant.TIMED_OUT));
                    }
                    case Semaphore s -> {
                        s.waiters.remove(w);
                        finish(w, fx);
                        Callback<Grant> cb = w.onGrant;
                        fx.add(() -> cb.done(Grant.TIMED_OUT));
                    }
                }
            }
        } finally {
            settle(fx);
        }
    }

    /** The caller went away: forget its wait (a barrier party that leaves breaks the barrier). */
    private void cancel(Waiter w) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                if (w.done) {
                    return;
                }
                if (w.queue instanceof Barrier b) {
                    breakBarrier(b, Optional.empty(), fx);
                    return;
                }
                w.queue.waiters.remove(w);
                finish(w, fx);
            }
        } finally {
            settle(fx);
        }
    }

    private static void finish(Waiter w, Effects fx) {
        w.done = true;
        if (w.timer != null) {
            w.timer.cancel(false);
            w.timer = null;
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    private Primitive newPrimitive(String name, SyncKind kind, int value, int parties, String lock, Effects fx) {
        if (byName.size() >= limits.maxNames()) {
            throw new ResourceExhausted("TOO_MANY_SYNC_PRIMITIVES", "there are already " + byName.size()
                    + " locks, semaphores, events, conditions and barriers (max " + limits.maxNames() + ")");
        }
        Primitive p = SyncViews.newPrimitive(name, kind, value, parties, lock, byName::get);
        byName.put(name, p);
        fx.changed(p);
        return p;
    }

    private Primitive require(String name) {
        FreeNames.check(name);
        Primitive p = byName.get(name);
        if (p == null) {
            throw new NotFound("sync primitive", name);
        }
        return p;
    }

    private Waiter newWaiter(String owner) {
        return new Waiter(owner, nanoTime.getAsLong(), this::cancel);
    }

    /** Answers a call once its change is kept; if the store cannot keep it, the call fails UNAVAILABLE. */
    private static <T> void tell(Effects fx, Callback<T> cb, T result) {
        fx.add(() -> cb.done(result), () -> cb.failed(Effects.storeFailed()));
    }

    /**
     * Answers a grant once it is kept. One the store cannot keep is given back before the caller is
     * told UNAVAILABLE: the caller does not know it holds it, and would wait on itself when it retries.
     */
    private void tellGranted(Effects fx, Callback<Grant> cb, Grant g, String name, String owner) {
        waitIds.granted(cb, name, g);
        fx.add(() -> cb.done(g), () -> {
            try {
                release(name, owner);
            } catch (ForkdException e) {
                // its session ended meanwhile, which gave it back
            }
            cb.failed(Effects.storeFailed());
        });
    }

    private void requireOwner(String owner) {
        if (owner == null || owner.isEmpty()) {
            throw new FailedPrecondition("SESSION_REQUIRED", "this call needs a session to own the lock:"
                    + " open one with SessionService.Open and send its credential in the forkd-session header"
                    + " (children of forkd have it in $FORKD_SESSION)");
        }
        if (!sessionAlive.test(owner)) {
            throw new NotFound("session", owner);
        }
    }

    private void touch(String owner, Primitive p) {
        touchedBy.computeIfAbsent(owner, k -> new LinkedHashSet<>()).add(p);
    }
}
