package dev.forkd.cli;

import com.google.protobuf.util.Durations;
import dev.forkd.v1.RestartPolicy;
import dev.forkd.v1.RestartSpec;
import dev.forkd.v1.SpawnRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What {@code run} and {@code spawn} both take: the command and how to run it. */
final class SpawnOptions {

    @Option(names = "--name", paramLabel = "NAME", description = "A unique name for the process.")
    String name;

    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Set a variable in its environment (repeatable), over the one inherited from yours.")
    Map<String, String> env = new LinkedHashMap<>();

    @Option(names = "--clean-env", description = "Do not pass your environment (by default the child inherits it, as a local command does):"
                    + " the child gets only -e variables and forkd's own FORKD_*. The server's environment is never passed.")
    boolean cleanEnv;

    @Option(names = "--cwd", paramLabel = "DIR", description = "Working directory (default: the current directory).")
    Path cwd;

    @Option(names = {"-l", "--label"}, paramLabel = "K=V", description = "Attach a label (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Terminate it after running this long (500ms, 10s, 2m, ...).")
    Duration timeout;

    @Option(names = "--stop-grace", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Grace between SIGTERM and SIGKILL when it is terminated (default 5s).")
    Duration stopGrace;

    @Option(names = "--restart", paramLabel = "POLICY", converter = RestartConverter.class,
            completionCandidates = RestartConverter.class,
            description = "Restart policy: ${COMPLETION-CANDIDATES} (default never).")
    RestartPolicy restart;

    @Option(names = "--output-limit", paramLabel = "BYTES",
            description = "Output to keep for it, in bytes (default: the server's; older output is dropped first).")
    Long outputLimit;

    @Option(names = "--daemon", description = "Terminate it when the spawning session ends, like a Python daemon process.")
    boolean daemon;

    @Parameters(arity = "1..*", paramLabel = "CMD", description = "The program and its arguments (after --).")
    List<String> command;

    /**
     * The request, with the working directory resolved against {@code here} (the CLI's own by
     * default) and, unless {@code --clean-env}, the caller's environment {@code callerEnv} under -e.
     */
    SpawnRequest.Builder toRequest(Path here, Map<String, String> callerEnv) {
        SpawnRequest.Builder b = SpawnRequest.newBuilder()
                .addAllArgv(command)
                .putAllEnv(cleanEnv ? Map.of() : CallerEnvironment.inherited(callerEnv))
                .putAllEnv(env)
                .setCleanEnv(cleanEnv)
                .setCwd((cwd == null ? here : here.resolve(cwd)).normalize().toString())
                .putAllLabels(labels)
                .setDaemon(daemon);
        if (name != null) {
            b.setName(name);
        }
        if (timeout != null) {
            b.setTimeout(Durations.fromNanos(timeout.toNanos()));
        }
        if (stopGrace != null) {
            b.setStopGrace(Durations.fromNanos(stopGrace.toNanos()));
        }
        if (outputLimit != null) {
            b.setOutputLimitBytes(outputLimit);
        }
        if (restart != null) {
            b.setRestart(RestartSpec.newBuilder().setPolicy(restart));
        }
        return b;
    }

    boolean restarts() {
        return restart != null && restart != RestartPolicy.RESTART_POLICY_NEVER;
    }
}
