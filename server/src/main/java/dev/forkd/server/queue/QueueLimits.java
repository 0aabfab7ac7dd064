package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import java.util.List;

/**
 * What bounds the queues of one server. Every queue is bounded: asking for {@code maxsize = 0} gets
 * {@link #defaultMaxsize}, never an unbounded queue.
 *
 * @param maxQueues the most queues at once
 * @param defaultMaxsize the bound of a queue created with maxsize 0
 * @param maxMaxsize the largest maxsize a queue may ask for
 * @param maxItemBytes the largest item
 * @param maxQueueBytes the most bytes one queue holds (waiting plus in flight); puts block beyond it
 * @param maxBatch the most items in one put, take or delivery
 * @param maxCredit the most credit one Consume stream keeps (so the most it has in flight)
 * @param maxWaiters the most blocked calls (put, take, join) on one queue
 */
public record QueueLimits(int maxQueues, long defaultMaxsize, long maxMaxsize, int maxItemBytes,
        long maxQueueBytes, int maxBatch, int maxCredit, int maxWaiters) {

    public QueueLimits {
        if (maxQueues < 1 || defaultMaxsize < 1 || maxMaxsize < defaultMaxsize || maxItemBytes < 1
                || maxQueueBytes < maxItemBytes || maxBatch < 1 || maxCredit < 1 || maxWaiters < 1) {
            throw new IllegalArgumentException("inconsistent queue limits: " + this);
        }
    }

    /** 1,000 queues of up to 1M items and 256 MiB each; items up to 1 MiB. */
    public static QueueLimits defaults() {
        return new QueueLimits(1_000, 100_000, 1_000_000, 1 << 20, 256L << 20, 10_000, 10_000, 10_000);
    }

    /**
     * Checks a unary put's batch: the item and batch limits, and it must fit an empty queue of
     * {@code maxsize} items ({@code label} names it). Returns its cost in bytes.
     */
    long checkPut(List<Item> batch, long maxsize, String label) {
        long cost = checkBatch(batch, "items");
        if (batch.size() > maxsize) {
            throw new ForkdException.InvalidArgument("items", "holds " + batch.size() + " items but "
                    + label + " holds at most " + maxsize + " (its maxsize)");
        }
        if (cost > maxQueueBytes()) {
            throw new ForkdException.InvalidArgument("items", "is " + cost + " bytes but a queue holds at most "
                    + maxQueueBytes() + " bytes (the server's limit)");
        }
        return cost;
    }

    /** Checks a Take's {@code max_items} against the batch limit. */
    void checkTake(int max) {
        if (max < 1 || max > maxBatch()) {
            throw new ForkdException.InvalidArgument("max_items",
                    "must be between 1 and " + maxBatch() + " (the server's batch limit)");
        }
    }

    /** Checks a batch against the item and batch limits; returns its cost in bytes. */
    long checkBatch(List<Item> batch, String field) {
        if (batch.isEmpty()) {
            throw new ForkdException.InvalidArgument(field, "must hold at least one item");
        }
        if (batch.size() > maxBatch()) {
            throw new ForkdException.InvalidArgument(field, "holds " + batch.size()
                    + " items; at most " + maxBatch() + " per batch (the server's limit)");
        }
        long cost = 0;
        for (int i = 0; i < batch.size(); i++) {
            Item it = batch.get(i);
            if (it.data().length > maxItemBytes()) {
                throw new ForkdException.InvalidArgument(field + "[" + i + "].data", "is " + it.data().length
                        + " bytes; items are at most " + maxItemBytes() + " bytes (the server's limit)");
            }
            if (it.contentType().length() > 256) {
                throw new ForkdException.InvalidArgument(field + "[" + i + "].content_type",
                        "is longer than 256 characters");
            }
            cost += it.cost();
        }
        return cost;
    }
}
