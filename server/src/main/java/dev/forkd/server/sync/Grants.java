package dev.forkd.server.sync;

import static dev.forkd.server.sync.Primitive.FREE;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.FreeNames;
import dev.forkd.server.events.EventKind;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.sync.Primitive.LockState;
import dev.forkd.server.sync.Primitive.Mutex;
import dev.forkd.server.sync.Primitive.Semaphore;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.ConditionWoken;
import dev.forkd.server.sync.SyncResults.Grant;
import dev.forkd.server.sync.SyncResults.Pending;
import dev.forkd.server.sync.SyncResults.Released;
import dev.forkd.server.sync.SyncResults.Undone;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * Locks, RLocks and semaphores: acquire, release, the undoing of an acquire given up on, and the
 * passing of a lock or permit to the next waiter, each grant with a fresh fencing token. Every
 * method runs under the {@link SyncTable}'s monitor and tells its callers through {@link Effects}.
 */
final class Grants {

    private final Primitives ps;
    private final SyncJournal journal;
    private final ServerEvents events;
    /** What became of Acquires that carried a wait id, for CancelAcquire. */
    private final WaitIds waitIds;
    /** Gives back a grant the store could not keep (the table's own release, with its monitor). */
    private final BiConsumer<String, String> giveBack;

    Grants(Primitives ps, SyncJournal journal, ServerEvents events, BiConsumer<String, String> giveBack) {
        this.ps = ps;
        this.waitIds = new WaitIds(WaitIds.DEFAULT_MAX, journal.keeps());
        this.journal = journal;
        this.events = events;
        this.giveBack = giveBack;
    }

    /** Puts back the granted wait ids the store kept (see {@link SyncJournal#loadWaits}). */
    void restoreWaits(List<Map.Entry<WaitIds.Key, WaitIds.Mark.Granted>> kept) {
        waitIds.restore(kept);
    }

    /** The changes to the granted wait ids that the store has not been given yet (used up). */
    List<WaitIds.Kept> drainWaitChanges() {
        return waitIds.drainUnkept();
    }

    boolean waitsChanged() {
        return waitIds.hasUnkept();
    }

    /** See {@link SyncTable#acquire(String, Optional, int, String, Optional, String, Callback)}. */
    Pending acquire(String name, Optional<SyncKind> kindIfNew, int value, String owner, Optional<Duration> timeout,
            String waitId, Callback<Grant> answer, Effects fx) {
        Callback<Grant> done = WaitIds.track(owner, waitId, answer);
        FreeNames.check(name);
        if (kindIfNew.isPresent() && !kindIfNew.get().isLock() && !kindIfNew.get().isSemaphore()) {
            throw new InvalidArgument("kind", "must be a lock or semaphore kind to acquire, not "
                    + kindIfNew.get().withArticle());
        }
        WaitIds.check("wait_id", waitId, false);
        ps.requireOwner(owner);
        if (!waitId.isEmpty() && waitIds.cancelledEarly(owner, waitId)) {
            fx.add(() -> done.done(Grant.TIMED_OUT)); // its caller gave up before it came
            return Pending.NONE;
        }
        Primitive p = ps.byName.get(name);
        if (p == null) {
            p = ps.newPrimitive(name, kindIfNew.orElse(SyncKind.LOCK),
                    value == 0 ? SyncTable.DEFAULT_SEMAPHORE_VALUE : value, 0, "", fx);
        } else if (kindIfNew.isPresent()) {
            SyncViews.requireKind(p, kindIfNew.get());
        } else if (!p.kind().isLock() && !p.kind().isSemaphore()) {
            throw SyncViews.wrongKind(p, "a lock or semaphore");
        }
        boolean onlyTry = timeout.isPresent() && timeout.get().isZero();
        switch (p) {
            case Mutex m -> {
                if (m.state instanceof LockState.Held h && h.owner().equals(owner) && m.reentrant) {
                    m.state = new LockState.Held(owner, h.depth() + 1, h.token());
                    fx.changed(m);
                    tellGranted(fx, done, new Grant(true, h.token(), false, h.depth() + 1), m.name, owner);
                    return Pending.NONE;
                }
                if (m.state instanceof LockState.Free && m.waiters.isEmpty()) {
                    ps.touch(owner, m);
                    tellGranted(fx, done, grantMutex(m, owner, 1, ps.nanoTime.getAsLong(), fx), m.name, owner);
                    return Pending.NONE;
                }
            }
            case Semaphore s -> {
                if (value != 0 && value != s.initial) {
                    throw new FailedPrecondition("SEMAPHORE_VALUE_MISMATCH", s.kind().words() + " \""
                            + name + "\" was created with value " + s.initial + ", not " + value);
                }
                if (s.value > 0 && s.waiters.isEmpty()) {
                    ps.touch(owner, s);
                    tellGranted(fx, done, grantPermit(s, owner, ps.nanoTime.getAsLong(), fx), s.name, owner);
                    return Pending.NONE;
                }
            }
            default -> throw new IllegalStateException("checked above");
        }
        if (onlyTry) {
            fx.add(() -> done.done(Grant.TIMED_OUT));
            return Pending.NONE;
        }
        ps.touch(owner, p);
        Waiter w = ps.newWaiter(owner);
        w.onGrant = done;
        return ps.enqueue(p, w, timeout);
    }

    /** See {@link SyncTable#cancelAcquire}. */
    Undone cancelAcquire(String name, String owner, String waitId, Effects fx) {
        FreeNames.check(name);
        WaitIds.check("wait_id", waitId, true);
        ps.requireOwner(owner);
        Primitive p = ps.byName.get(name);
        WaitIds.Key key = new WaitIds.Key(owner, waitId);
        if (p != null) {
            for (Iterator<Waiter> it = p.waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.onGrant instanceof WaitIds.Tracked t && t.key().equals(key)) {
                    it.remove();
                    Primitives.finish(w, fx);
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
                release(p, owner, fx);
            }
            return new Undone(false, stillHeld);
        }
        waitIds.cancelEarly(owner, waitId);
        return new Undone(false, false);
    }

    /** Releases what {@code owner} holds of {@code p}: a lock (one level of an RLock) or a permit. */
    Released release(Primitive p, String owner, Effects fx) {
        String name = p.name;
        switch (p) {
            case Mutex m -> {
                ps.requireOwner(owner);
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
     * A session ended: the lock it held passes on (abandoned), the permits it held come back.
     * Answers how many holds were released.
     */
    int sessionEnded(Primitive p, String session, Effects fx) {
        switch (p) {
            case Mutex m -> {
                if (m.state instanceof LockState.Held h && h.owner().equals(session)) {
                    m.abandoned = true;
                    passOn(m, fx);
                    return 1;
                }
            }
            case Semaphore s -> {
                Integer n = s.held.remove(session);
                if (n != null) {
                    s.value = s.bounded ? Math.min(s.initial, s.value + n) : s.value + n;
                    s.abandoned = true;
                    fx.changed(s);
                    wakeSemaphore(s, fx);
                    return n;
                }
            }
            default -> {}
        }
        return 0;
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
                Optional.of(Duration.ofNanos(Math.max(0, ps.nanoTime.getAsLong() - since))), Optional.empty(),
                owner.isEmpty() ? Optional.empty() : Optional.of(owner)));
    }

    /** The lock becomes free, or goes straight to its first waiter. */
    void passOn(Mutex m, Effects fx) {
        m.state = FREE;
        fx.changed(m);
        Waiter w = m.waiters.poll();
        if (w == null) {
            return;
        }
        Grant g = grantMutex(m, w.owner, w.depth, w.since, fx);
        Primitives.finish(w, fx);
        if (w.onCondition != null) {
            Primitives.tell(fx, w.onCondition, new ConditionWoken(w.notified, g.fencingToken(), g.abandoned()));
        } else {
            tellGranted(fx, w.onGrant, g, m.name, w.owner);
        }
    }

    private void wakeSemaphore(Semaphore s, Effects fx) {
        while (s.value > 0 && !s.waiters.isEmpty()) {
            Waiter w = s.waiters.poll();
            Grant g = grantPermit(s, w.owner, w.since, fx);
            Primitives.finish(w, fx);
            tellGranted(fx, w.onGrant, g, s.name, w.owner);
        }
    }

    /**
     * Answers a grant once it is kept. One the store cannot keep is given back before the caller is
     * told UNAVAILABLE: the caller does not know it holds it, and would wait on itself when it retries.
     */
    private void tellGranted(Effects fx, Callback<Grant> cb, Grant g, String name, String owner) {
        waitIds.granted(cb, name, g);
        fx.add(() -> cb.done(g), () -> {
            try {
                giveBack.accept(name, owner);
            } catch (ForkdException e) {
                // its session ended meanwhile, which gave it back
            }
            cb.failed(Effects.storeFailed());
        });
    }
}
