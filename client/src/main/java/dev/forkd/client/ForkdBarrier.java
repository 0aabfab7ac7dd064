package dev.forkd.client;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A named server-held barrier shaped like {@link java.util.concurrent.CyclicBarrier}: it lets
 * {@code parties} callers (in any process) through together, then resets for the next round. A party
 * that times out, dies waiting, or {@link #reset()}s breaks it for the others.
 */
public final class ForkdBarrier {

    private final SyncCalls calls;
    private final String name;
    private final int parties;

    ForkdBarrier(SyncCalls calls, String name, int parties) {
        this.calls = calls;
        this.name = name;
        this.parties = parties;
    }

    public String name() {
        return name;
    }

    /**
     * Waits until every party arrived.
     *
     * @return as CyclicBarrier: {@code getParties() - 1} for the first to arrive, 0 for the last
     * @throws BrokenBarrierException if the barrier broke while waiting, or was broken
     */
    public int await() throws InterruptedException, BrokenBarrierException {
        return arrived(Rpc.interruptibly(calls.waitBarrier(name, parties, null)));
    }

    /**
     * Waits up to the timeout; a timeout breaks the barrier for the others, as in CyclicBarrier.
     *
     * @throws TimeoutException if the timeout passed first
     */
    public int await(long timeout, TimeUnit unit) throws InterruptedException, BrokenBarrierException,
            TimeoutException {
        SyncCalls.Arrival a = Rpc.interruptibly(calls.waitBarrier(name, parties,
                Duration.of(Math.max(0, timeout), unit.toChronoUnit())));
        if (a.timedOut()) {
            throw new TimeoutException("barrier " + name + ": not every party arrived in time");
        }
        return arrived(a);
    }

    private int arrived(SyncCalls.Arrival a) throws BrokenBarrierException {
        if (a.broken()) {
            throw new BrokenBarrierException();
        }
        return parties - 1 - a.index();
    }

    public int getParties() {
        return parties;
    }

    /** Parties waiting now. */
    public int getNumberWaiting() {
        return calls.get(name).arrived();
    }

    public boolean isBroken() {
        return calls.get(name).broken();
    }

    /** Back to empty and unbroken; parties waiting now get a {@link BrokenBarrierException}. */
    public void reset() {
        calls.resetBarrier(name);
    }

    /** Breaks the barrier: current and later waiters get a {@link BrokenBarrierException} until reset. */
    public void abort() {
        calls.abortBarrier(name);
    }

    @Override
    public String toString() {
        return "ForkdBarrier[" + name + "]";
    }
}
