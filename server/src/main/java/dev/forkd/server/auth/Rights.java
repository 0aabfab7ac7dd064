package dev.forkd.server.auth;

import dev.forkd.server.error.ForkdException.PermissionDenied;
import java.util.Map;

/**
 * The rights table (README "What a child can and cannot do"), in one place. The admin may do
 * everything. A child may use the shared data plane (queues, pipes, sync objects, shared state,
 * pools), spawn processes, read any process's record, and signal, delete, watch and feed stdin to
 * itself and its descendants only. Acting as a session needs that session's credential, which the
 * session interceptor checks; nobody acts as a session by its public id.
 */
public final class Rights {

    /** What a caller does to an existing process. */
    public enum ProcessAction {
        SIGNAL("signal"),
        DELETE("delete"),
        WATCH("watch the output of"),
        WRITE_STDIN("write to the stdin of"),
        RESTART("restart");

        private final String words;

        ProcessAction(String words) {
            this.words = words;
        }
    }

    private Rights() {}

    /** Whether {@code caller} may do {@code action} to the process of lineage {@code target}. */
    public static boolean mayControl(Caller caller, Lineage target) {
        return switch (caller) {
            case Caller.Admin a -> true;
            case Caller.Child c -> target.isOrDescendsFrom(c.processId());
        };
    }

    /**
     * @throws PermissionDenied reason {@code NOT_YOUR_PROCESS} if {@code caller} may not do
     *     {@code action} to the process
     */
    public static void requireControl(Caller caller, ProcessAction action, Lineage target) {
        if (!mayControl(caller, target)) {
            Caller.Child c = (Caller.Child) caller;
            throw new PermissionDenied("NOT_YOUR_PROCESS", "process " + c.processId() + " may not " + action.words
                    + " process " + target.processId() + ": a child controls only itself and the processes it"
                    + " (or they) spawned", Map.of("process", target.processId(), "caller_process", c.processId()));
        }
    }

    /**
     * Whether {@code caller} may act as a session bound to {@code boundProcess} (the child a session
     * belongs to; empty for a session the admin opened). The admin may act as any session whose
     * credential it holds; a child only as its own sessions.
     */
    public static boolean mayActAs(Caller caller, java.util.Optional<String> boundProcess) {
        return switch (caller) {
            case Caller.Admin a -> true;
            case Caller.Child c -> boundProcess.isPresent() && boundProcess.get().equals(c.processId());
        };
    }
}
