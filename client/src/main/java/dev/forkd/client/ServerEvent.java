package dev.forkd.client;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One message of the server's event stream ({@link Forkd#events(EventFilter)}), like a line of
 * {@code docker events}: the watch is in place, something happened, or events were missed because this
 * subscriber fell behind. (Not to be confused with {@link ForkdEvent}, the shared flag.)
 */
public sealed interface ServerEvent {

    /** What happened. Kinds added to the server later arrive as {@link #OTHER}. */
    enum Kind {
        PROCESS_STARTED, PROCESS_EXITED, PROCESS_RESTARTING, PROCESS_FATAL, AGENT_REGISTERED, AGENT_LOST,
        LOCK_GRANTED, BARRIER_BROKEN, QUEUE_CLOSED, POOL_TASK_FAILED, OTHER
    }

    /**
     * Always the first: the watch is in place, and every later event is seen (or reported missed).
     *
     * @param sequence the server's sequence number of the last event before this watch
     */
    record Started(long sequence) implements ServerEvent {}

    /**
     * Something happened.
     *
     * @param sequence grows by one per event in the server: a gap is an event filtered out or missed
     * @param resourceType "process", "agent", "lock", "barrier", "queue" or "pool"
     * @param id the resource's server-made id (a lock's or barrier's is its name)
     * @param name the resource's user name; empty when it has none
     * @param attributes the details, per kind (README "Metrics and events")
     * @param duration spawn latency for {@link Kind#PROCESS_STARTED}, the wait for {@link Kind#LOCK_GRANTED}
     * @param session the session concerned (a lock's new holder), when there is one you may see
     */
    record Happened(long sequence, Kind kind, Instant time, String resourceType, String id, String name,
            Map<String, String> labels, Map<String, String> attributes, Optional<Duration> duration,
            Optional<String> session) implements ServerEvent {
        public Happened {
            labels = Map.copyOf(labels);
            attributes = Map.copyOf(attributes);
        }
    }

    /** {@code count} events that matched were dropped because this subscriber fell behind. */
    record Missed(long count) implements ServerEvent {}
}
