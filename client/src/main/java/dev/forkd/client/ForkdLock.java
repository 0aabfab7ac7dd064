package dev.forkd.client;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * A named server-held lock as a {@link Lock}. Its owner is this client's session, not a thread: any
 * thread of this client may unlock it, and when the session ends (this client closes, or its JVM dies
 * and the lease runs out) the lock passes to the next waiter, who then sees {@link #wasAbandoned()}.
 * Every grant carries a {@link #fencingToken()} that grows, to pass to whatever the lock protects.
 *
 * <p>Not reentrant: locking it again from the same session waits for itself, as Python's
 * {@code multiprocessing.Lock} does.
 */
public final class ForkdLock implements Lock {

    private final SyncCalls calls;
    private final String name;
    private volatile SyncCalls.Grant last = new SyncCalls.Grant(false, 0, false);

    ForkdLock(SyncCalls calls, String name) {
        this.calls = calls;
        this.name = name;
    }

    public String name() {
        return name;
    }

    @Override
    public void lock() {
        granted(calls.acquireUninterruptibly(name, false, null));
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        granted(calls.acquireInterruptibly(name, false, null));
    }

    @Override
    public boolean tryLock() {
        return granted(calls.acquireUninterruptibly(name, false, Duration.ZERO));
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        return granted(calls.acquireInterruptibly(name, false, Duration.of(Math.max(0, time), unit.toChronoUnit())));
    }

    private boolean granted(SyncCalls.Grant grant) {
        if (grant.acquired()) {
            last = grant;
        }
        return grant.acquired();
    }

    /**
     * @throws ForkdException (FAILED_PRECONDITION) if this session does not hold it
     */
    @Override
    public void unlock() {
        calls.release(name);
    }

    /**
     * A condition bound to this lock, named {@code <lock>.condition}: every client that asks this
     * lock for its condition gets the same one. {@link #newCondition(String)} names others.
     */
    @Override
    public Condition newCondition() {
        return newCondition(name + ".condition");
    }

    /** The condition of this name, bound to this lock. */
    public Condition newCondition(String conditionName) {
        return new ForkdCondition(calls, conditionName, this);
    }

    /** The fencing token of this client's latest grant of the lock (0 before the first). */
    public long fencingToken() {
        return last.fencingToken();
    }

    /** Whether the holder before this client's latest grant died holding it (its work may be half-done). */
    public boolean wasAbandoned() {
        return last.abandoned();
    }

    /** A grant made through a condition wait, which re-acquires the lock. */
    void regranted(SyncCalls.Grant grant) {
        last = new SyncCalls.Grant(true, grant.fencingToken(), grant.abandoned());
    }

    @Override
    public String toString() {
        return "ForkdLock[" + name + "]";
    }
}
