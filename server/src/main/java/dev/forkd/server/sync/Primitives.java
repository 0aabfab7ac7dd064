package dev.forkd.server.sync;

import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.NotFound;
import dev.forkd.server.error.ForkdException.ResourceExhausted;
import dev.forkd.server.error.FreeNames;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.Pending;
import dev.forkd.server.sync.SyncTable.Limits;
import dev.forkd.server.time.Timeout;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The named primitives, which sessions touched them, and their waiter queues: what the parts of the
 * {@link SyncTable} share. Not thread-safe: every method runs under the table's monitor.
 */
final class Primitives {

    final Map<String, Primitive> byName = new TreeMap<>();
    /** What each session touched (held or waited on), so its end finds it without a scan. */
    final Map<String, Set<Primitive>> touchedBy = new HashMap<>();
    final LongSupplier nanoTime;
    private final Predicate<String> sessionAlive;
    private final Limits limits;
    private final ScheduledExecutorService timers;
    private final Consumer<Waiter> onCancel;
    private final Consumer<Waiter> onTimeout;

    /**
     * @param onCancel what a waiter whose caller went away runs (it takes the table's monitor)
     * @param onTimeout what a waiter whose timeout passed runs (it takes the table's monitor)
     */
    Primitives(ScheduledExecutorService timers, Predicate<String> sessionAlive, Limits limits, LongSupplier nanoTime,
            Consumer<Waiter> onCancel, Consumer<Waiter> onTimeout) {
        this.timers = timers;
        this.sessionAlive = sessionAlive;
        this.limits = limits;
        this.nanoTime = nanoTime;
        this.onCancel = onCancel;
        this.onTimeout = onTimeout;
    }

    boolean alive(String session) {
        return sessionAlive.test(session);
    }

    Primitive newPrimitive(String name, SyncKind kind, int value, int parties, String lock, Effects fx) {
        if (byName.size() >= limits.maxNames()) {
            throw new ResourceExhausted("TOO_MANY_SYNC_PRIMITIVES", "there are already " + byName.size()
                    + " locks, semaphores, events, conditions and barriers (max " + limits.maxNames() + ")");
        }
        Primitive p = SyncViews.newPrimitive(name, kind, value, parties, lock, byName::get);
        byName.put(name, p);
        fx.changed(p);
        return p;
    }

    Primitive require(String name) {
        FreeNames.check(name);
        Primitive p = byName.get(name);
        if (p == null) {
            throw new NotFound("sync primitive", name);
        }
        return p;
    }

    void requireOwner(String owner) {
        if (owner == null || owner.isEmpty()) {
            throw new FailedPrecondition("SESSION_REQUIRED", "this call needs a session to own the lock:"
                    + " open one with SessionService.Open and send its credential in the forkd-session header"
                    + " (children of forkd have it in $FORKD_SESSION)");
        }
        if (!sessionAlive.test(owner)) {
            throw new NotFound("session", owner);
        }
    }

    void touch(String owner, Primitive p) {
        touchedBy.computeIfAbsent(owner, k -> new LinkedHashSet<>()).add(p);
    }

    Waiter newWaiter(String owner) {
        return new Waiter(owner, nanoTime.getAsLong(), onCancel);
    }

    /**
     * Queues a waiter. Everything that can fail runs before it joins the queue, so a call that fails
     * leaves no waiter behind; the timer cannot fire early, as it needs the monitor held here.
     */
    Pending enqueue(Primitive p, Waiter w, Optional<Duration> timeout) {
        requireWaiterRoom(p);
        w.queue = p;
        if (timeout.isPresent()) {
            w.timer = Timeout.schedule(timers, timeout.get(), () -> onTimeout.accept(w)).orElse(null);
        }
        p.waiters.add(w);
        return w;
    }

    void requireWaiterRoom(Primitive p) {
        if (p.waiters.size() >= limits.maxWaitersPerName()) {
            throw new ResourceExhausted("TOO_MANY_WAITERS", p.kind().words() + " \"" + p.name + "\" already has "
                    + p.waiters.size() + " waiters (max " + limits.maxWaitersPerName() + ")");
        }
    }

    /** The waiter's wait is over: it leaves no timer behind. */
    static void finish(Waiter w, Effects fx) {
        w.done = true;
        if (w.timer != null) {
            w.timer.cancel(false);
            w.timer = null;
        }
    }

    /** Answers a call once its change is kept; if the store cannot keep it, the call fails UNAVAILABLE. */
    static <T> void tell(Effects fx, Callback<T> cb, T result) {
        fx.add(() -> cb.done(result), () -> cb.failed(Effects.storeFailed()));
    }
}
