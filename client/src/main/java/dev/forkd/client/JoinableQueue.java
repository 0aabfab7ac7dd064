package dev.forkd.client;

import java.time.Duration;

/**
 * A {@link ForkdQueue} whose consumers mark each item done, so a producer can wait until everything
 * put was handled, like Python's {@code JoinableQueue}.
 */
public final class JoinableQueue extends ForkdQueue {

    JoinableQueue(QueueCalls calls) {
        super(calls);
    }

    /** Marks one taken item as handled. */
    public void taskDone() {
        calls.taskDone(1);
    }

    /** Items put and not yet marked done. */
    public long unfinished() {
        return calls.size().unfinished();
    }

    /** Waits until every item put has been marked done. */
    public void join() throws InterruptedException {
        Rpc.interruptibly(calls.join(null));
    }

    /** Waits up to {@code timeout}; true when every item put has been marked done. */
    public boolean join(Duration timeout) throws InterruptedException {
        return Rpc.interruptibly(calls.join(timeout));
    }
}
