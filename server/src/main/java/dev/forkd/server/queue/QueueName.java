package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import java.util.Map;
import java.util.Optional;

/** Who a queue is in what a caller reads: its id, its name if it has one, and the refusals that name it. */
record QueueName(String id, Optional<String> name) {

    /** {@code queue "<name or id>"}, as messages name it. */
    String label() {
        return "queue \"" + name.orElse(id) + "\"";
    }

    ForkdException.NotFound notFound() {
        return new ForkdException.NotFound("queue", name.orElse(id));
    }

    ForkdException closed() {
        return new ForkdException.FailedPrecondition("QUEUE_CLOSED", label() + " is closed: no more puts",
                Map.of("queue", id));
    }

    ForkdException deleted() {
        return new ForkdException.FailedPrecondition("QUEUE_DELETED", label() + " was deleted",
                Map.of("queue", id));
    }

    ForkdException tooManyDone(long n, long unfinished) {
        return new ForkdException.FailedPrecondition("TASK_DONE_TOO_MANY", "task_done of " + n
                + " on " + label() + " is more than its " + unfinished
                + " unfinished items (called too many times)", Map.of("queue", id, "count", Long.toString(n),
                        "unfinished", Long.toString(unfinished)));
    }

    ForkdException sessionEnded(String session) {
        return new ForkdException.FailedPrecondition("SESSION_ENDED", "session \"" + session
                + "\" ended; its unacked items went back to " + label(), Map.of("session", session));
    }
}
