package dev.forkd.client;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A named server-held counting semaphore, shaped like {@link java.util.concurrent.Semaphore} for one
 * permit at a time. Permits this client's session holds come back when the session ends. As in
 * Python, any caller may release, and a release with no permit held raises the count.
 */
public final class ForkdSemaphore {

    private final SyncCalls calls;
    private final String name;

    ForkdSemaphore(SyncCalls calls, String name) {
        this.calls = calls;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Waits for a permit. */
    public void acquire() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        calls.acquireInterruptibly(name, true, null);
    }

    /** Waits for a permit, ignoring interrupts (the flag stays set). */
    public void acquireUninterruptibly() {
        calls.acquireUninterruptibly(name, true, null);
    }

    /** Takes a permit if one is free now. */
    public boolean tryAcquire() {
        return calls.acquireUninterruptibly(name, true, Duration.ZERO).acquired();
    }

    /** Waits up to the timeout for a permit; false when it passed. */
    public boolean tryAcquire(long timeout, TimeUnit unit) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        return calls.acquireInterruptibly(name, true, Duration.of(Math.max(0, timeout), unit.toChronoUnit()))
                .acquired();
    }

    /** Gives a permit back. */
    public void release() {
        calls.release(name);
    }

    /** Permits free now. */
    public int availablePermits() {
        return calls.get(name).value();
    }

    @Override
    public String toString() {
        return "ForkdSemaphore[" + name + "]";
    }
}
