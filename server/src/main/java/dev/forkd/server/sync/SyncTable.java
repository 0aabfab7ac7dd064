package dev.forkd.server.sync;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.FreeNames;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.sync.Primitive.Barrier;
import dev.forkd.server.sync.Primitive.Condition;
import dev.forkd.server.sync.Primitive.Event;
import dev.forkd.server.sync.Primitive.LockState;
import dev.forkd.server.sync.Primitive.Mutex;
import dev.forkd.server.sync.Primitive.Semaphore;
import dev.forkd.server.sync.SyncResults.BarrierPassed;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.ConditionWoken;
import dev.forkd.server.sync.SyncResults.Grant;
import dev.forkd.server.sync.SyncResults.Info;
import dev.forkd.server.sync.SyncResults.Pending;
import dev.forkd.server.sync.SyncResults.Released;
import dev.forkd.server.sync.SyncResults.Undone;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Named locks, semaphores, events, conditions and barriers, owned by sessions: the sync area's one
 * entry point. Locks and semaphores are {@link Grants}, conditions {@link Conditions}, barriers
 * {@link Barriers}; what they share (the names, the waiter queues, who touched what) is
 * {@link Primitives}.
 *
 * <p>One monitor, this table's, guards all of it: every critical section is a few field updates, so
 * one lock costs less than the gRPC call around it, and a condition can move waiters between its own
 * queue and its lock's atomically. Waiters are records in FIFO queues, completed by callbacks; no
 * thread waits. Callbacks run after the monitor is released and after the change they tell of is in
 * the store ({@link SyncJournal}): on the thread that caused them, or the store's.
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

    private final Primitives ps;
    private final Grants grants;
    private final Conditions conditions;
    private final Barriers barriers;
    /** Keeps the primitives and the fencing counter (one for every grant, so tokens never repeat). */
    private final SyncJournal journal;

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
        this.ps = new Primitives(timers, sessionAlive, limits, nanoTime, this::cancel, this::timedOut);
        this.journal = new SyncJournal(store);
        this.grants = new Grants(ps, journal, events, this::release);
        this.conditions = new Conditions(ps, grants);
        this.barriers = new Barriers(ps, events);
        grants.restoreWaits(journal.loadWaits());
        for (Primitive p : journal.load()) {
            ps.byName.put(p.name, p);
            switch (p) {
                case Mutex m when m.state instanceof LockState.Held h -> ps.touch(h.owner(), m);
                case Semaphore sem -> sem.held.keySet().forEach(owner -> ps.touch(owner, sem));
                default -> {}
            }
        }
        List.copyOf(ps.touchedBy.keySet()).stream().filter(owner -> !sessionAlive.test(owner))
                .forEach(this::sessionEnded);
    }

    /**
     * Completes once every change answered so far is in the store: a caller told of a change by a
     * method's return value (a release, a set event) answers its client after this.
     */
    public synchronized CompletableFuture<Void> committed() {
        return journal.committed();
    }

    /**
     * Runs {@code change} under the monitor, then writes what it changed (still under the monitor,
     * so writes keep their order) and tells its callers, whether it returned or threw.
     */
    private <T> T changing(java.util.function.Function<Effects, T> change) {
        Effects fx = new Effects();
        try {
            synchronized (this) {
                return change.apply(fx);
            }
        } finally {
            if (journal.keeps()) {
                synchronized (this) {
                    if (!fx.changed.isEmpty() || grants.waitsChanged()) {
                        journal.flush(fx, ps.byName, grants.drainWaitChanges());
                    }
                }
            }
            fx.run();
        }
    }

    // ---- create, get, list, delete ---------------------------------------------------------

    /** Creates a primitive; ALREADY_EXISTS if the name is taken. */
    public Info create(String name, SyncKind kind, int value, int parties, String lock) {
        return changing(fx -> {
            FreeNames.check(name);
            if (ps.byName.containsKey(name)) {
                throw new ForkdException.AlreadyExists(ps.byName.get(name).kind().words(), name);
            }
            return SyncViews.info(ps.newPrimitive(name, kind, value, parties, lock, fx));
        });
    }

    public synchronized Info get(String name) {
        return SyncViews.info(ps.require(name));
    }

    public synchronized List<Info> list(Optional<SyncKind> kind) {
        return ps.byName.values().stream().filter(p -> kind.isEmpty() || p.kind() == kind.get())
                .map(SyncViews::info).toList();
    }

    /** Forgets a primitive nobody holds or waits on. */
    public SyncKind delete(String name) {
        return changing(fx -> {
            Primitive p = ps.require(name);
            if (!p.idle()) {
                throw new FailedPrecondition("SYNC_IN_USE", p.kind().words() + " \"" + name
                        + "\" is held or waited on; release it first", Map.of("name", name));
            }
            ps.byName.remove(name);
            fx.changed(p);
            return p.kind();
        });
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

    /** An Acquire that {@link #cancelAcquire} can undo by its {@code waitId} (empty: no id). */
    public Pending acquire(String name, Optional<SyncKind> kindIfNew, int value, String owner,
            Optional<Duration> timeout, String waitId, Callback<Grant> done) {
        return changing(fx -> grants.acquire(name, kindIfNew, value, owner, timeout, waitId, done, fx));
    }

    /** Releases a lock held by {@code owner}, or one semaphore permit. */
    public Released release(String name, String owner) {
        return changing(fx -> grants.release(ps.require(name), owner, fx));
    }

    /**
     * Undoes the Acquire of {@code owner} that carried {@code waitId}, whatever became of it: stops
     * its wait (it answers acquired=false), releases its grant if the owner still holds what it was
     * granted, or, if nothing is known of it yet, makes it answer acquired=false when it comes.
     */
    public Undone cancelAcquire(String name, String owner, String waitId) {
        return changing(fx -> grants.cancelAcquire(name, owner, waitId, fx));
    }

    // ---- events ------------------------------------------------------------------------------

    /** Sets the event (created if new) and wakes every waiter; answers how many. */
    public int setEvent(String name) {
        return changing(fx -> {
            Event e = event(name, fx);
            e.set = true;
            fx.changed(e);
            int n = e.waiters.size();
            for (Waiter w; (w = e.waiters.poll()) != null; ) {
                Primitives.finish(w, fx);
                Callback<Boolean> cb = w.onEvent;
                fx.add(() -> cb.done(true));
            }
            return n;
        });
    }

    public void clearEvent(String name) {
        changing(fx -> {
            Event e = event(name, fx);
            e.set = false;
            fx.changed(e);
            return null;
        });
    }

    /** Answers {@code true} once the event is set, {@code false} if the timeout passes first. */
    public Pending waitEvent(String name, Optional<Duration> timeout, Callback<Boolean> done) {
        return changing(fx -> {
            Event e = event(name, fx);
            if (!e.set && !(timeout.isPresent() && timeout.get().isZero())) {
                Waiter w = ps.newWaiter("");
                w.onEvent = done;
                return ps.enqueue(e, w, timeout);
            }
            Primitives.tell(fx, done, e.set);
            return Pending.NONE;
        });
    }

    private Event event(String name, Effects fx) {
        FreeNames.check(name);
        Primitive p = ps.byName.get(name);
        if (p == null) {
            return (Event) ps.newPrimitive(name, SyncKind.EVENT, 0, 0, "", fx);
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
        return changing(fx -> conditions.await(name, lock, owner, timeout, done, fx));
    }

    /** Condition.notify(n) or notify_all: moves waiters to the lock's queue; answers how many. */
    public int notifyCondition(String name, String lock, String owner, int n, boolean all) {
        return changing(fx -> conditions.notify(name, lock, owner, n, all, fx));
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
        return changing(fx -> barriers.await(name, parties, owner, timeout, done, fx));
    }

    /** Breaks the barrier; answers how many waiters were told. */
    public int abortBarrier(String name) {
        return changing(fx -> barriers.abort(name, fx));
    }

    /** Back to empty and unbroken; current waiters are told it broke. */
    public int resetBarrier(String name) {
        return changing(fx -> barriers.reset(name, fx));
    }

    // ---- sessions ----------------------------------------------------------------------------

    /**
     * A session ended: its locks pass on (abandoned), its permits come back, its waits end and a
     * barrier it waited at breaks. Answers how many holds were released.
     */
    public int sessionEnded(String session) {
        return changing(fx -> {
            Set<Primitive> touched = ps.touchedBy.remove(session);
            if (touched == null) {
                return 0;
            }
            ForkdException gone = new FailedPrecondition("SESSION_ENDED", "session " + session + " ended while waiting");
            int released = 0;
            for (Primitive p : touched) {
                boolean barrierParty = false;
                for (Iterator<Waiter> it = p.waiters.iterator(); it.hasNext(); ) {
                    Waiter w = it.next();
                    if (w.owner.equals(session)) {
                        it.remove();
                        barrierParty |= p instanceof Barrier;
                        Primitives.finish(w, fx);
                        fx.add(() -> fail(w, gone));
                    }
                }
                if (p instanceof Barrier b && barrierParty) {
                    barriers.breakIt(b, Optional.empty(), fx);
                }
                released += grants.sessionEnded(p, session, fx);
            }
            return released;
        });
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

    /** A waiter's timeout passed (a timer thread): it ends as its kind says. */
    private void timedOut(Waiter w) {
        changing(fx -> {
            if (w.done) {
                return null;
            }
            w.timer = null;
            switch (w.queue) {
                case Condition c -> conditions.timedOut(c, w, fx);
                case Barrier b -> barriers.breakIt(b, Optional.of(w), fx);
                case Event e -> {
                    e.waiters.remove(w);
                    Primitives.finish(w, fx);
                    Callback<Boolean> cb = w.onEvent;
                    fx.add(() -> cb.done(false));
                }
                case Mutex m -> grantTimedOut(m, w, fx);
                case Semaphore s -> grantTimedOut(s, w, fx);
            }
            return null;
        });
    }

    private static void grantTimedOut(Primitive p, Waiter w, Effects fx) {
        p.waiters.remove(w);
        Primitives.finish(w, fx);
        Callback<Grant> cb = w.onGrant;
        fx.add(() -> cb.done(Grant.TIMED_OUT));
    }

    /** The caller went away: forget its wait (a barrier party that leaves breaks the barrier). */
    private void cancel(Waiter w) {
        changing(fx -> {
            if (w.done) {
                return null;
            }
            if (w.queue instanceof Barrier b) {
                barriers.breakIt(b, Optional.empty(), fx);
                return null;
            }
            w.queue.waiters.remove(w);
            Primitives.finish(w, fx);
            return null;
        });
    }
}
