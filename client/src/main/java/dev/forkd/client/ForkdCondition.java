package dev.forkd.client;

import java.time.Duration;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * A server-held condition bound to a {@link ForkdLock}. Waiting releases the lock on the server and
 * holds it again before returning, whether notified or timed out; the caller must hold the lock.
 * There are no spurious wake-ups, but as with any condition, re-check what you waited for.
 */
final class ForkdCondition implements Condition {

    private final SyncCalls calls;
    private final String name;
    private final ForkdLock lock;

    ForkdCondition(SyncCalls calls, String name, ForkdLock lock) {
        this.calls = calls;
        this.name = name;
        this.lock = lock;
    }

    @Override
    public void await() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        lock.regranted(Rpc.interruptibly(calls.waitCondition(name, lock.name(), null)));
    }

    @Override
    public void awaitUninterruptibly() {
        lock.regranted(Rpc.uninterruptibly(calls.waitCondition(name, lock.name(), null)));
    }

    @Override
    public long awaitNanos(long nanos) throws InterruptedException {
        long start = System.nanoTime();
        boolean notified = await(nanos, TimeUnit.NANOSECONDS);
        long left = nanos - (System.nanoTime() - start);
        return notified ? Math.max(1, left) : Math.min(0, left);
    }

    @Override
    public boolean await(long time, TimeUnit unit) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        SyncCalls.Grant g = Rpc.interruptibly(calls.waitCondition(name, lock.name(),
                Duration.of(Math.max(0, time), unit.toChronoUnit())));
        lock.regranted(g);
        return g.acquired();
    }

    @Override
    public boolean awaitUntil(Date deadline) throws InterruptedException {
        return await(Math.max(0, deadline.getTime() - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
    }

    /** Wakes the longest waiter; the caller must hold the lock. */
    @Override
    public void signal() {
        calls.notifyCondition(name, lock.name(), false);
    }

    /** Wakes every waiter; the caller must hold the lock. */
    @Override
    public void signalAll() {
        calls.notifyCondition(name, lock.name(), true);
    }
}
