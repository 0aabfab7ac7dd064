package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;

/**
 * A call blocked on a queue until its turn comes, its deadline passes, or the queue ends it: a put
 * waiting for room ({@link PendingPut}), a Take waiting for items ({@link TakeCall}), a Join waiting
 * for every task to be done ({@link JoinCall}). Guarded by its queue's lock.
 */
abstract sealed class Waiter permits PendingPut, TakeCall, JoinCall {

    /** Ends the wait when it passes; empty while the wait has no limit. */
    private Optional<ScheduledFuture<?>> deadline = Optional.empty();

    final void startDeadline(Optional<ScheduledFuture<?>> timer) {
        deadline = timer;
    }

    /** The wait ended another way: its deadline will not fire. */
    final void stopDeadline() {
        deadline.ifPresent(t -> t.cancel(false));
    }

    /** The answer of a wait whose deadline passed, taken from the queue as it is now. */
    abstract Runnable timedOut(QueueContents contents);

    /** The answer of a wait the queue ended: closed to puts, or deleted. */
    abstract Runnable failed(ForkdException error);
}
