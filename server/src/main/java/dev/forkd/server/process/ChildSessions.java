package dev.forkd.server.process;

import java.util.Map;

/**
 * Each run of a child gets its own session, ended when the run ends (DESIGN.md §5); its
 * credential reaches the child only through the environment variables the session names.
 */
public interface ChildSessions {
    /** Opens the session of one run of a process. */
    ChildSession open(String processId);

    void end(String sessionId);

    /** Whether a client's session is open; a daemon may only be spawned into an open one. */
    default boolean isOpen(String sessionId) {
        return true;
    }

    ChildSessions NONE = new ChildSessions() {
        @Override
        public ChildSession open(String processId) {
            return new ChildSession("", Map.of());
        }

        @Override
        public void end(String sessionId) {}
    };

    /**
     * One run's session: its public id (empty: none), and the variables that carry its credential
     * into the child's environment (the credential is nowhere else in the table).
     */
    record ChildSession(String id, Map<String, String> env) {
        public ChildSession {
            env = Map.copyOf(env);
        }

        @Override
        public String toString() {
            return "ChildSession[id=" + id + ", env=" + env.keySet() + "]"; // keys only: values are secret
        }
    }
}
