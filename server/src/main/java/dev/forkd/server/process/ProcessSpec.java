package dev.forkd.server.process;

import dev.forkd.server.limits.ResourceLimits;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What to run, validated. {@code env} is the child's whole environment, already merged.
 *
 * @param sessionId the session that spawned it; a daemon is terminated when it ends
 * @param holdUntilWatched hold the output from the start until a holding watcher attaches
 */
public record ProcessSpec(
        List<String> argv,
        Map<String, String> env,
        Optional<String> cwd,
        Optional<String> name,
        Map<String, String> labels,
        boolean stdinPipe,
        boolean daemon,
        Optional<Duration> timeout,
        RestartSpec restart,
        long outputLimit,
        Duration stopGrace,
        Optional<String> sessionId,
        boolean holdUntilWatched,
        ResourceLimits limits) {

    public ProcessSpec {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        labels = Map.copyOf(labels);
        java.util.Objects.requireNonNull(limits, "limits");
    }

    /** A spec with no resource limits of forkd's. */
    public ProcessSpec(List<String> argv, Map<String, String> env, Optional<String> cwd, Optional<String> name,
            Map<String, String> labels, boolean stdinPipe, boolean daemon, Optional<Duration> timeout,
            RestartSpec restart, long outputLimit, Duration stopGrace, Optional<String> sessionId,
            boolean holdUntilWatched) {
        this(argv, env, cwd, name, labels, stdinPipe, daemon, timeout, restart, outputLimit, stopGrace, sessionId,
                holdUntilWatched, ResourceLimits.NONE);
    }
}
