package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import java.util.List;
import java.util.function.Consumer;

/** A Take call waiting for items. At-most-once: what it is handed has left the queue. */
final class TakeCall extends Waiter implements Taker {

    final int max;
    private final Consumer<Outcomes.Take> done;

    TakeCall(int max, Consumer<Outcomes.Take> done) {
        this.max = max;
        this.done = done;
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
