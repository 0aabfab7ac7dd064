package dev.forkd.server.process;

import dev.forkd.server.events.Event;
import dev.forkd.server.events.EventKind;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The server-wide event a process's state change makes, if any: the table's one word to its listener. */
final class ProcessEvents {

    private ProcessEvents() {}

    /** Called from {@link ProcessRecord#transition} with the monitor held, after the change. */
    static Optional<Event> of(ProcessRecord rec, ProcessState before, ProcessState next, Instant now) {
        Map<String, String> attributes = new HashMap<>();
        attributes.put("run", Integer.toString(rec.run));
        EventKind kind;
        Optional<Duration> duration = Optional.empty();
        switch (next) {
            case ProcessState.Running r -> {
                kind = EventKind.PROCESS_STARTED;
                attributes.put("pid", Integer.toString(r.pid()));
                attributes.put("agent", r.agentId());
                if (rec.startingSince != null) {
                    duration = Optional.of(Duration.between(rec.startingSince, r.startedAt()));
                }
            }
            case ProcessState.Backoff b -> {
                kind = EventKind.PROCESS_RESTARTING;
                ended(b.ended(), attributes);
                attributes.put("restart_at", b.restartAt().toString());
                if (rec.pendingRestart != null) {
                    attributes.put("requested", "true"); // forkd restart, not the restart policy
                }
            }
            case ProcessState.Fatal f -> {
                kind = EventKind.PROCESS_FATAL;
                ended(f.ended(), attributes);
                attributes.put("reason", f.cause());
            }
            case ProcessState.Starting s -> {
                return Optional.empty();
            }
            default -> {
                kind = EventKind.PROCESS_EXITED;
                ended(next, attributes);
                if (before instanceof ProcessState.Backoff) {
                    attributes.put("restart", "cancelled"); // stopped while backing off: its last end, again
                }
            }
        }
        return Optional.of(new Event(kind, rec.id, rec.spec.name(), rec.spec.labels(), attributes, duration,
                Optional.ofNullable(rec.lineage), Optional.empty()));
    }

    /** How a run ended, as {@code cause} and {@code exit_code} (Python's: -N for signal N). */
    private static void ended(ProcessState end, Map<String, String> attributes) {
        attributes.put("cause", switch (end) {
            case ProcessState.Exited e -> "exited";
            case ProcessState.Signaled s -> "signaled";
            case ProcessState.FailedToStart f -> "failed_to_start";
            case ProcessState.Lost l -> "lost";
            default -> "other";
        });
        attributes.put("exit_code", Integer.toString(ProcessSnapshot.exitCodeOf(end)));
        if (end instanceof ProcessState.Lost l) {
            attributes.put("detail", l.cause());
        } else if (end instanceof ProcessState.FailedToStart f) {
            attributes.put("detail", f.error().message());
        }
    }
}
