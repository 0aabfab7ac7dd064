package dev.forkd.server.process;

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
        boolean holdUntilWatched) {

    public ProcessSpec {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        labels = Map.copyOf(labels);
    }
}
