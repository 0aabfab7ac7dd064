package dev.forkd.server.queue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

/**
 * A put waiting for room: a unary batch (all or none) or a producer's batch (as much as fits, in
 * order). Guarded by its queue's lock.
 */
final class PendingPut {

    final List<Item> batch;
    final boolean unary;
    final Consumer<Outcomes.Put> done;
    /** How many of the batch are in the queue. */
    int next;
    /** The cost of the items not yet in the queue: what the budget holds for this putter. */
    long remainingBytes;
    /** Completes once every item of the batch in the queue is committed (a durable queue). */
    CompletableFuture<Void> stored = QueueJournal.STORED;
    ScheduledFuture<?> timer;
    /** Told once the whole batch is in the queue, before its answer (a producer reads on). */
    Runnable admitted = () -> { };

    PendingPut(List<Item> batch, boolean unary, long batchBytes, Consumer<Outcomes.Put> done) {
        this.batch = batch;
        this.unary = unary;
        this.remainingBytes = batchBytes;
        this.done = done;
    }

    int remaining() {
        return batch.size() - next;
    }

    /** The store is writing items of this batch: the answer waits for them too. */
    void storing(CompletableFuture<Void> write) {
        stored = stored == QueueJournal.STORED ? write : stored.thenCombine(write, (a, b) -> null);
    }

    void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
