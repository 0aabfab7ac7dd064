package dev.forkd.server.sync;

import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.FreeNames;
import dev.forkd.server.sync.Primitive.Condition;
import dev.forkd.server.sync.Primitive.LockState;
import dev.forkd.server.sync.Primitive.Mutex;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.ConditionWoken;
import dev.forkd.server.sync.SyncResults.Pending;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Conditions bound to a lock: a wait gives the lock up and queues for a notify; a notified (or
 * timed-out) waiter queues for the lock again, and is answered once it holds it at its old depth.
 * Every method runs under the {@link SyncTable}'s monitor.
 */
final class Conditions {

    private final Primitives ps;
    private final Grants grants;

    Conditions(Primitives ps, Grants grants) {
        this.ps = ps;
        this.grants = grants;
    }

    /** See {@link SyncTable#waitCondition}. */
    Pending await(String name, String lock, String owner, Optional<Duration> timeout, Callback<ConditionWoken> done,
            Effects fx) {
        ps.requireOwner(owner);
        Condition c = condition(name, lock, fx);
        Mutex m = lockOf(c, fx);
        LockState.Held h = requireHolder(c, m, owner, "wait on");
        ps.touch(owner, c);
        Waiter w = ps.newWaiter(owner);
        w.depth = h.depth();
        w.onCondition = done;
        // Checked before the lock is given up: a refused wait still holds its lock.
        ps.requireWaiterRoom(c);
        grants.passOn(m, fx); // release fully; the next holder may now notify us
        if (timeout.isPresent() && timeout.get().isZero()) {
            requeueForLock(m, w, fx);
            return Pending.NONE;
        }
        return ps.enqueue(c, w, timeout);
    }

    /** The caller holds the lock, so nobody is granted it here: only a created condition is kept. */
    int notify(String name, String lock, String owner, int n, boolean all, Effects made) {
        ps.requireOwner(owner);
        Condition c = condition(name, lock, made);
        Mutex m = lockOf(c, made);
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

    /** A waiter's timeout passed before a notify: it queues for the lock, not notified. */
    void timedOut(Condition c, Waiter w, Effects fx) {
        c.waiters.remove(w);
        w.notified = false;
        requeueForLock(lockOf(c, fx), w, fx);
    }

    private Condition condition(String name, String lock, Effects fx) {
        FreeNames.check(name);
        Primitive p = ps.byName.get(name);
        if (p == null) {
            return (Condition) ps.newPrimitive(name, SyncKind.CONDITION, 0, 0, lock, fx);
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

    private Mutex lockOf(Condition c, Effects fx) {
        Primitive p = ps.byName.get(c.lock);
        if (p == null) {
            return (Mutex) ps.newPrimitive(c.lock, SyncKind.RLOCK, 0, 0, "", fx);
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
        ps.touch(w.owner, m);
        w.queue = m;
        m.waiters.add(w);
        if (m.state instanceof LockState.Free && m.waiters.size() == 1) {
            grants.passOn(m, fx);
        }
    }
}
