package dev.forkd.server.grpc;

import com.google.protobuf.Timestamp;
import dev.forkd.server.agent.AgentLimits;
import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.server.process.ProcessState;
import dev.forkd.server.process.RestartSpec;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.RestartPolicy;
import dev.forkd.v1.StdinMode;
import java.time.Duration;
import java.time.Instant;

/** Core process values to their proto messages. */
final class ProcessMessages {

    private ProcessMessages() {}

    static ProcessInfo info(ProcessSnapshot s, ExitCauses causes) {
        ProcessInfo.Builder b = ProcessInfo.newBuilder()
                .setId(s.id())
                .setName(s.spec().name().orElse(""))
                .addAllArgv(s.spec().argv())
                .setCwd(s.spec().cwd().orElse(""))
                .putAllLabels(s.spec().labels())
                .setState(state(s.state()))
                .setAgentId(s.agentId().orElse(""))
                .setIsAlive(s.state().isAlive())
                .setCreatedAt(ts(s.createdAt()))
                .setRestartCount(s.restartCount())
                .setRestart(restart(s.spec().restart()))
                .setDaemon(s.spec().daemon())
                .setStdinMode(s.spec().stdinPipe() ? StdinMode.STDIN_MODE_PIPE : StdinMode.STDIN_MODE_NONE)
                .setSessionId(s.spec().sessionId().orElse(""))
                .setOutputStartOffset(s.outputStart())
                .setOutputEndOffset(s.outputEnd())
                .setFailure(failure(s.state()));
        // Waiting to restart or given up, no run is current: its last pid may already be another process's.
        boolean noCurrentRun = s.state() instanceof ProcessState.Backoff || s.state() instanceof ProcessState.Fatal;
        if (s.pid() > 0 && !noCurrentRun) {
            b.setPid(s.pid());
        }
        s.endedExitCode().ifPresent(b::setExitCode);
        s.startedAt().ifPresent(t -> b.setStartedAt(ts(t)));
        s.endedAt().ifPresent(t -> b.setEndedAt(ts(t)));
        if (!s.spec().limits().isNone()) {
            b.setLimits(AgentLimits.toProto(s.spec().limits()));
        }
        b.setExitCause(causes.of(s));
        if (s.state() instanceof ProcessState.Backoff bo) {
            b.setNextRestartAt(ts(bo.restartAt()));
        }
        return b.build();
    }

    static dev.forkd.v1.ProcessState state(ProcessState s) {
        return switch (s) {
            case ProcessState.Starting x -> dev.forkd.v1.ProcessState.PROCESS_STATE_STARTING;
            case ProcessState.Running x -> dev.forkd.v1.ProcessState.PROCESS_STATE_RUNNING;
            case ProcessState.Exited x -> dev.forkd.v1.ProcessState.PROCESS_STATE_EXITED;
            case ProcessState.Signaled x -> dev.forkd.v1.ProcessState.PROCESS_STATE_SIGNALED;
            case ProcessState.FailedToStart x -> dev.forkd.v1.ProcessState.PROCESS_STATE_FAILED_TO_START;
            case ProcessState.Lost x -> dev.forkd.v1.ProcessState.PROCESS_STATE_LOST;
            case ProcessState.Backoff x -> dev.forkd.v1.ProcessState.PROCESS_STATE_BACKOFF;
            case ProcessState.Fatal x -> dev.forkd.v1.ProcessState.PROCESS_STATE_FATAL;
        };
    }

    private static String failure(ProcessState s) {
        return switch (s) {
            case ProcessState.FailedToStart f -> f.error().message();
            case ProcessState.Lost l -> l.cause();
            case ProcessState.Fatal f -> f.cause() + "; last run: " + lastRun(f.ended());
            case ProcessState.Backoff b -> failure(b.ended());
            default -> "";
        };
    }

    /** How a run that led to a restart decision ended, in words. */
    private static String lastRun(ProcessState ended) {
        return switch (ended) {
            case ProcessState.Exited e -> "exited with code " + e.exitCode();
            case ProcessState.Signaled sig -> "killed by signal " + sig.signal();
            default -> failure(ended);
        };
    }

    static dev.forkd.v1.RestartSpec restart(RestartSpec r) {
        return dev.forkd.v1.RestartSpec.newBuilder()
                .setPolicy(switch (r.policy()) {
                    case NEVER -> RestartPolicy.RESTART_POLICY_NEVER;
                    case ON_FAILURE -> RestartPolicy.RESTART_POLICY_ON_FAILURE;
                    case ALWAYS -> RestartPolicy.RESTART_POLICY_ALWAYS;
                })
                .setInitialBackoff(duration(r.initialBackoff()))
                .setMaxBackoff(duration(r.maxBackoff()))
                .setMaxRestarts(r.maxRestarts())
                .setWindow(duration(r.window()))
                .build();
    }

    static Timestamp ts(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    static com.google.protobuf.Duration duration(Duration d) {
        return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
    }
}
