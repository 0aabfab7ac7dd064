package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A put waiting for room: a unary batch (all or none) or a producer's batch (as much as fits, in
 * order). Guarded by its queue's lock.
 */
final class PendingPut extends Waiter {

    private static final Logger LOG = Logger.getLogger(PendingPut.class.getName());

    final List<Item> batch;
    final boolean unary;
    private final Consumer<Outcomes.Put> done;
    /** How many of the batch are in the queue. */
    private int next;
    /** The cost of the items not yet in the queue: what the budget holds for this putter. */
    private long remainingBytes;
    /** Completes once every item of the batch in the queue is committed (a durable queue). */
    private CompletableFuture<Void> stored = QueueJournal.STORED;
    /** Told once the whole batch is in the queue, before its answer (a producer reads on). */
    final Runnable admitted;

    PendingPut(List<Item> batch, boolean unary, long batchBytes, Runnable admitted, Consumer<Outcomes.Put> done) {
        this.batch = batch;
        this.unary = unary;
        this.remainingBytes = batchBytes;
        this.admitted = admitted;
        this.done = done;
    }

    int remaining() {
        return batch.size() - next;
    }

    /** What the budget holds for the items not yet in the queue. */
    long remainingBytes() {
        return remainingBytes;
    }

    /**
     * Moves into {@code contents} what fits of the rest of the batch: all or none for a unary put,
     * as many as fit in order for a producer's. Returns how many entered; the answer also waits for
     * the store's write of them (a durable queue).
     */
    int admitInto(QueueContents contents) {
        int from = next;
        if (unary) {
            if (!contents.fits(remaining(), remainingBytes)) {
                return 0;
            }
            next = batch.size();
            remainingBytes = 0;
        } else {
            long taking = 0; // as much as fits, in order: the counts grow with each item taken
            while (remaining() > 0) {
                long cost = batch.get(next).cost();
                if (!contents.fits(next - from + 1, taking + cost)) {
                    break;
                }
                taking += cost;
                next++;
            }
            remainingBytes -= taking;
        }
        if (next > from) {
            CompletableFuture<Void> write = contents.append(batch, from, next);
            stored = stored == QueueJournal.STORED ? write : stored.thenCombine(write, (a, b) -> null);
        }
        return next - from;
    }

    /** The putter leaves without its remaining items: the budget gets their bytes back. */
    void refund(MemoryBudget memory) {
        memory.release(remainingBytes);
        remainingBytes = 0;
    }

    /**
     * Answers the put once the store has its items: at once for an in-memory queue, else from the
     * store's commit callback (never blocking the caller's thread).
     */
    void answerOnceStored(Outcomes.Put.Done result, String label) {
        if (stored == QueueJournal.STORED) {
            done.accept(result);
            return;
        }
        stored.whenComplete((ok, e) -> {
            try {
                done.accept(e == null ? result
                        : new Outcomes.Put.Failed(QueueJournal.storeFailed(e, result.put() + " items put to " + label)));
            } catch (RuntimeException failed) {
                LOG.log(Level.WARNING, "a queue callback failed", failed);
            }
        });
    }

    /** A partial producer never times out, so a putter that times out has put nothing. */
    @Override
    Runnable timedOut(QueueContents contents) {
        long size = contents.size();
        return () -> done.accept(new Outcomes.Put.TimedOut(size));
    }

    @Override
    Runnable failed(ForkdException error) {
        return () -> done.accept(new Outcomes.Put.Failed(error));
    }
}
