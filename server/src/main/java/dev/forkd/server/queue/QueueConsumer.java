package dev.forkd.server.queue;

import dev.forkd.server.queue.Outcomes.Delivery;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;

/**
 * One Consume stream's place on a queue: its credit and the items it was given and has not acked.
 * When it ends without acking them, they go back to the head of the queue.
 */
public final class QueueConsumer implements Taker {

    /**
     * Where deliveries go. Called under the queue's lock, in delivery order: an implementation must
     * not block nor call into the queue; it hands the batch on (e.g. to an outbox drained elsewhere).
     */
    public interface Sink {
        void deliver(List<Delivery> batch);

        /** The last call: no more deliveries. */
        void end(Outcomes.ConsumerEnd why);
    }

    private final ItemQueue queue;
    final Optional<String> session;
    final Sink sink;
    // Guarded by the queue's lock.
    int credit;
    final LinkedHashMap<Long, QueueEntry> unacked = new LinkedHashMap<>();

    QueueConsumer(ItemQueue queue, Optional<String> session, Sink sink) {
        this.queue = queue;
        this.session = session;
        this.sink = sink;
    }

    public ItemQueue queue() {
        return queue;
    }

    /** Allows {@code n} more items to be pushed (the total kept is capped by the server's limit). */
    public void grant(int n) {
        queue.grant(this, n);
    }

    /** Acks by tag and every tag up to {@code through} (0 for none); returns how many were acked. */
    public int ack(List<Long> tags, long through, boolean taskDone) {
        return queue.ack(this, tags, through, taskDone);
    }

    /** The stream ended: unacked items go back to the head of the queue. Returns how many. */
    public int close() {
        return queue.endConsumer(this, Optional.empty());
    }

}
