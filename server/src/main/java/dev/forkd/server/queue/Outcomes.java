package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import java.util.List;

/** How blocking queue calls end. A timeout is an outcome, not an error. */
public final class Outcomes {

    private Outcomes() {}

    /** How a Put ends. */
    public sealed interface Put {
        /** All items are in the queue; {@code size} is the queue's size right after. */
        record Done(int put, long size) implements Put {}

        /** No room in time: nothing was put; {@code size} is the queue's size when it gave up. */
        record TimedOut(long size) implements Put {}

        /** The queue was closed or deleted while the put waited: nothing was put. */
        record Failed(ForkdException error) implements Put {}
    }

    /** How a Take ends. */
    public sealed interface Take {
        /** At least one item, in queue order. */
        record Items(List<Item> items) implements Take {}

        /** Empty for the whole timeout. */
        record TimedOut() implements Take {}

        /** Closed and drained: no item will ever come. */
        record Drained() implements Take {}

        /** The queue was deleted while the take waited. */
        record Failed(ForkdException error) implements Take {}
    }

    /** How a Join ends. */
    public sealed interface Join {
        /** Every item put was marked done. */
        record Done() implements Join {}

        /** Tasks still unfinished when the timeout passed. */
        record TimedOut(long unfinished) implements Join {}

        /** The queue was deleted while the join waited. */
        record Failed(ForkdException error) implements Join {}
    }

    /** Why a Consume stream ends from the queue's side. */
    public sealed interface ConsumerEnd {
        /** The queue is closed and drained. */
        record Drained() implements ConsumerEnd {}

        /** The queue was deleted, or the consumer's session ended. */
        record Failed(ForkdException error) implements ConsumerEnd {}
    }

    /** An item delivered to a consumer, acked by its tag. */
    public record Delivery(long tag, Item item, boolean redelivered) {}
}
