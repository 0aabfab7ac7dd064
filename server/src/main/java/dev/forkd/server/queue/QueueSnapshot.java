package dev.forkd.server.queue;

import java.util.Optional;

/** A queue's state at one moment. */
public record QueueSnapshot(String id, Optional<String> name, long maxsize, long size, long inFlight,
        long unfinished, boolean closed, boolean drained, int producers, int consumers, long bytes,
        long totalPut, long totalTaken, boolean durable) {

    /** No room for another item (in-flight items count). */
    public boolean full() {
        return size + inFlight >= maxsize;
    }
}
