package dev.forkd.server.events;

import dev.forkd.server.auth.Caller;
import java.util.Optional;

/**
 * Who may see which event (README "Metrics and events"). The admin sees everything. A child sees
 * the events of itself and its descendants (the processes it may control), the shared data plane's
 * events (locks, barriers, queues, pools), with the session of a lock grant only when it is its own,
 * and nothing of the agents (the server's life is the admin's).
 */
public final class EventRights {

    private EventRights() {}

    /** The event as {@code caller} may see it, or empty if it may not see it at all. */
    public static Optional<Event> asSeenBy(Caller caller, Event event) {
        return switch (caller) {
            case Caller.Admin a -> Optional.of(event);
            case Caller.Child c -> {
                if (event.kind().resourceType().equals("agent")) {
                    yield Optional.empty();
                }
                if (event.process().isPresent()) {
                    yield event.process().get().isOrDescendsFrom(c.processId()) ? Optional.of(event) : Optional.empty();
                }
                yield event.session().isPresent() && !event.session().get().equals(c.sessionId())
                        ? Optional.of(event.withoutSession()) : Optional.of(event);
            }
        };
    }
}
