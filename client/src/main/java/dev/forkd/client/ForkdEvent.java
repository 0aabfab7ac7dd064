package dev.forkd.client;

import java.time.Duration;

/** A named server-held flag others can wait for, like Python's {@code multiprocessing.Event}. */
public final class ForkdEvent {

    private final SyncCalls calls;
    private final String name;

    ForkdEvent(SyncCalls calls, String name) {
        this.calls = calls;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Sets the flag, waking every waiter. */
    public void set() {
        calls.setEvent(name);
    }

    /** Clears the flag. */
    public void clear() {
        calls.clearEvent(name);
    }

    /** Whether the flag is set now. */
    public boolean isSet() {
        return Rpc.uninterruptibly(calls.waitEvent(name, Duration.ZERO));
    }

    /** Waits until the flag is set. */
    public void await() throws InterruptedException {
        Rpc.interruptibly(calls.waitEvent(name, null));
    }

    /** Waits up to {@code timeout}; true when the flag is set, false when the timeout passed first. */
    public boolean await(Duration timeout) throws InterruptedException {
        return Rpc.interruptibly(calls.waitEvent(name, timeout));
    }

    @Override
    public String toString() {
        return "ForkdEvent[" + name + "]";
    }
}
