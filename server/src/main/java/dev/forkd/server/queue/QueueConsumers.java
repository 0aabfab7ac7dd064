package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.queue.Outcomes.Delivery;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * The Consume streams open on one queue: each one's credit, and the items it was delivered and has
 * not acked (in flight). A consumer with credit waits in the queue's line of takers;
 * when it ends without acking, what it holds goes back to the head of the queue, to be redelivered.
 *
 * <p>Guarded by the queue's lock; the queue calls this in its transitions. Sinks are told
 * under that lock, in order (see {@link QueueConsumer.Sink}).
 */
final class QueueConsumers {

    private final QueueLimits limits;
    private final Set<QueueConsumer> open = new LinkedHashSet<>();

    QueueConsumers(QueueLimits limits) {
        this.limits = limits;
    }

    int count() {
        return open.size();
    }

    void open(QueueConsumer c) {
        open.add(c);
    }

    boolean isOpen(QueueConsumer c) {
        return open.contains(c);
    }

    /** Adds credit (up to the server's limit); true if {@code c} had none and now has: it joins the line. */
    boolean grant(QueueConsumer c, int credit) {
        boolean waiting = c.credit > 0;
        c.credit = (int) Math.min((long) c.credit + credit, limits.maxCredit());
        return !waiting && c.credit > 0;
    }

    /** Delivers to {@code c} what its credit and one reply allow; true if it has credit left. */
    boolean serve(QueueConsumer c, QueueContents contents) {
        int max = Math.min(c.credit, limits.maxBatch());
        List<Delivery> batch = contents.deliver(max, c.unacked);
        c.credit -= batch.size();
        c.sink.deliver(batch);
        return c.credit > 0;
    }

    /** Acks {@code c}'s deliveries by tag and every tag up to {@code through}; returns how many. */
    int ack(QueueConsumer c, List<Long> tags, long through, boolean taskDone, QueueContents contents,
            LongFunction<ForkdException> tooManyDone) {
        return contents.ack(c.unacked, tags, through, taskDone, tooManyDone);
    }

    /**
     * Ends an open consumer: what it has not acked goes back to the head of the queue, in its order;
     * {@code tell} is its sink's last word. Returns how many items went back.
     */
    int end(QueueConsumer c, QueueContents contents, Optional<Outcomes.ConsumerEnd> tell) {
        open.remove(c);
        int back = contents.putBack(c.unacked);
        c.credit = 0;
        tell.ifPresent(c.sink::end);
        return back;
    }

    /** The open consumers of {@code session}. */
    List<QueueConsumer> ofSession(String session) {
        return open.stream().filter(c -> c.session.filter(session::equals).isPresent()).toList();
    }

    /** The queue is drained: every consumer ends, with nothing in flight. */
    void drained() {
        for (QueueConsumer c : open) {
            c.credit = 0;
            c.sink.end(new Outcomes.ConsumerEnd.Drained());
        }
        open.clear();
    }

    /** The queue was deleted: every consumer ends with {@code error}; what it held is gone. */
    void deleted(ForkdException error) {
        for (QueueConsumer c : open) {
            c.unacked.clear();
            c.sink.end(new Outcomes.ConsumerEnd.Failed(error));
        }
        open.clear();
    }
}
