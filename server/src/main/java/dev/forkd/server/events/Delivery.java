package dev.forkd.server.events;

import java.time.Instant;

/** What a watcher receives next: that it is watching, an event, or word that it missed some. */
public sealed interface Delivery {

    /** First of all: the watch is in place; {@code sequence} is the last event before it. */
    record Started(long sequence) implements Delivery {}

    /**
     * @param sequence the server-wide number of the event: it grows by one per event, so gaps a
     *     watcher sees are events its filter or rights left out, or ones it missed
     */
    record Happened(long sequence, Instant time, Event event) implements Delivery {}

    /** The watcher fell behind and {@code count} events that matched were dropped here. */
    record Missed(long count) implements Delivery {}
}
