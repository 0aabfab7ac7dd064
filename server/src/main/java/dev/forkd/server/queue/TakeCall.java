package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A Take call waiting for items. At-most-once: what it is handed has left the queue. A call whose
 * caller is gone (cancelled, its connection lost) is handed nothing: its items stay for the next.
 */
final class TakeCall extends Waiter implements Taker {

    final int max;
    private final Consumer<Outcomes.Take> done;
    private final BooleanSupplier callerGone;

    TakeCall(int max, Consumer<Outcomes.Take> done, BooleanSupplier callerGone) {
        this.max = max;
        this.done = done;
        this.callerGone = callerGone;
    }

    /** Its caller went away, whether or not the queue has heard of it yet. */
    boolean callerGone() {
        return callerGone.getAsBoolean();
    }

    Runnable took(List<Item> items) {
        return () -> done.accept(new Outcomes.Take.Items(items));
    }

    /** The queue is closed and drained: no item will ever come. */
    Runnable drained() {
        return () -> done.accept(new Outcomes.Take.Drained());
    }

    @Override
    Runnable timedOut(QueueContents contents) {
        return () -> done.accept(new Outcomes.Take.TimedOut());
    }

    @Override
    Runnable failed(ForkdException error) {
        return () -> done.accept(new Outcomes.Take.Failed(error));
    }
}
