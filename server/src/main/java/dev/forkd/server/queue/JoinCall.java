package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import java.util.function.Consumer;

/** A Join call waiting until every item put is marked done. */
final class JoinCall extends Waiter {

    private final Consumer<Outcomes.Join> done;

    JoinCall(Consumer<Outcomes.Join> done) {
        this.done = done;
    }

    Runnable joined() {
        return () -> done.accept(new Outcomes.Join.Done());
    }

    @Override
    Runnable timedOut(QueueContents contents) {
        long left = contents.unfinished();
        return () -> done.accept(new Outcomes.Join.TimedOut(left));
    }

    @Override
    Runnable failed(ForkdException error) {
        return () -> done.accept(new Outcomes.Join.Failed(error));
    }
}
