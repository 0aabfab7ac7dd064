package dev.forkd.server.events;

import dev.forkd.server.auth.Lineage;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * One thing that happened in the server, as a core tells it (the event stream adds its sequence
 * number and time).
 *
 * @param id the resource's server-made id (a process or agent id) or, for named-only resources
 *     (locks, barriers), its name
 * @param name the resource's user name; empty when it has none
 * @param labels the resource's labels (processes and pools carry them)
 * @param attributes what else there is to say, as text (exit_code, cause, abandoned, ...)
 * @param duration spawn latency for a start, wait time for a lock grant; empty otherwise
 * @param process the lineage of the process the event is about, which decides who may see it
 * @param session the session the event concerns (a lock's new holder); shown only to its owner and
 *     the admin
 */
public record Event(
        EventKind kind,
        String id,
        Optional<String> name,
        Map<String, String> labels,
        Map<String, String> attributes,
        Optional<Duration> duration,
        Optional<Lineage> process,
        Optional<String> session) {

    public Event {
        labels = Map.copyOf(labels);
        attributes = Map.copyOf(attributes);
    }

    /** An event with no labels, duration, process or session. */
    public static Event of(EventKind kind, String id, Optional<String> name, Map<String, String> attributes) {
        return new Event(kind, id, name, Map.of(), attributes, Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    /** The same event without its session (for a watcher that may not see whose it is). */
    public Event withoutSession() {
        return session.isEmpty() ? this
                : new Event(kind, id, name, labels, attributes, duration, process, Optional.empty());
    }
}
