package dev.forkd.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The part of the caller's environment a child started by {@code run}, {@code spawn} or {@code map}
 * inherits, as a local command or Python's {@code Process} would. A caller that is itself a forkd
 * child holds its own credentials and id; those name the caller, not the new child, so they are
 * never forwarded (the server sets the child's own anyway, but a child must not even briefly see,
 * or be able to act with, its spawner's session).
 */
final class CallerEnvironment {

    /** Per-child variables forkd sets for each child; the caller's describe the caller. */
    static final Set<String> PER_CHILD = Set.of("FORKD_SESSION", "FORKD_TOKEN", "FORKD_PROCESS_ID",
            "FORKD_POOL_ID", "FORKD_POOL_WORKER", "FORKD_LOCK", "FORKD_FENCING_TOKEN");

    private CallerEnvironment() {}

    /** {@code callerEnv} without forkd's per-child variables. */
    static Map<String, String> inherited(Map<String, String> callerEnv) {
        Map<String, String> env = new LinkedHashMap<>();
        callerEnv.forEach((k, v) -> {
            if (!PER_CHILD.contains(k)) {
                env.put(k, v);
            }
        });
        return env;
    }
}
