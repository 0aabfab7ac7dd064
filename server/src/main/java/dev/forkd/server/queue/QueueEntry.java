package dev.forkd.server.queue;

/**
 * An item as the queue holds it: with its sequence number (its key in the store when the queue is
 * durable; grows with every item put) and whether a consumer was given it before without acking it.
 */
record QueueEntry(Item item, long seq, boolean redelivered) {

    QueueEntry redelivery() {
        return new QueueEntry(item, seq, true);
    }
}
