package dev.forkd.server.events;

import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The server log's record of what happened to processes and agents: one line per spawn, exit,
 * restart, FATAL, agent registered or lost, so {@code forkd.log} alone tells a process's story.
 * Other kinds (locks, queues, pool tasks) stay in the event stream: they are too frequent for a log.
 */
public final class LifecycleLog implements ServerEvents {

    private final Logger log;

    public LifecycleLog(Logger log) {
        this.log = log;
    }

    /** Logs to the logger of this class's name (where {@code forkd serve} sends its log). */
    public static LifecycleLog toServerLog() {
        return new LifecycleLog(Logger.getLogger(LifecycleLog.class.getName()));
    }

    @Override
    public void happened(Event event) {
        String what = switch (event.kind()) {
            case PROCESS_STARTED -> "started";
            case PROCESS_EXITED -> "ended";
            case PROCESS_RESTARTING -> "ended, restarting";
            case PROCESS_FATAL -> "restarted too often, given up (FATAL)";
            case AGENT_REGISTERED -> "registered";
            case AGENT_LOST -> "lost";
            default -> null;
        };
        if (what != null && log.isLoggable(Level.INFO)) {
            log.info(line(event, what));
        }
    }

    static String line(Event event, String what) {
        StringBuilder line = new StringBuilder(event.kind().resourceType()).append(' ').append(event.id());
        event.name().filter(n -> !n.isEmpty()).ifPresent(n -> line.append(" (").append(n).append(')'));
        line.append(' ').append(what);
        // Sorted, so the same event always reads the same; newlines kept out so it stays one line.
        for (Map.Entry<String, String> a : new TreeMap<>(event.attributes()).entrySet()) {
            line.append(' ').append(a.getKey()).append('=').append(a.getValue().replace('\n', ' '));
        }
        return line.toString();
    }
}
