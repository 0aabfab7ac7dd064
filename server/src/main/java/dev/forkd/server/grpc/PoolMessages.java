package dev.forkd.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.forkd.server.pool.Pool;
import dev.forkd.server.pool.PoolSnapshot;
import dev.forkd.server.pool.PoolSpec;
import dev.forkd.server.pool.TaskInput;
import dev.forkd.server.pool.TaskResult;
import dev.forkd.v1.Framing;
import dev.forkd.v1.PoolInfo;
import dev.forkd.v1.PoolState;
import dev.forkd.v1.TaskFailure;
import dev.forkd.v1.TaskFailureKind;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;

/** Pool core values to and from their proto messages. */
final class PoolMessages {

    private PoolMessages() {}

    static PoolInfo info(PoolSnapshot s) {
        PoolSpec spec = s.spec();
        PoolInfo.Builder b = PoolInfo.newBuilder()
                .setId(s.id())
                .setName(spec.name().orElse(""))
                .setState(state(s.phase()))
                .setProcesses(spec.processes())
                .setWorker(WorkerSpec.newBuilder()
                        .setKind(spec.kind() == PoolSpec.Kind.PERSISTENT
                                ? WorkerKind.WORKER_KIND_PERSISTENT : WorkerKind.WORKER_KIND_PER_TASK)
                        .addAllArgv(spec.worker().argv())
                        .setCwd(spec.worker().cwd().orElse(""))
                        .setStdinItem(spec.stdinItem())
                        .setFraming(spec.framing() == PoolSpec.Framing.LENGTH_PREFIXED
                                ? Framing.FRAMING_LENGTH_PREFIXED : Framing.FRAMING_LINE))
                .setMaxTasksPerChild(spec.maxTasksPerChild())
                .addAllInitializer(spec.initializer())
                .setMaxRetries(spec.maxRetries())
                .setRetryFailed(spec.retryFailed())
                .putAllLabels(spec.labels())
                .setTasksPending(s.pending())
                .setTasksSucceeded(s.succeeded())
                .setTasksFailed(s.failed())
                .setTasksRetried(s.retried())
                .setWorkersStarted(s.workersStarted())
                .setWorkersAlive(s.workerProcessIds().size())
                .addAllWorkerProcessIds(s.workerProcessIds())
                .setCreatedAt(Timestamp.newBuilder().setSeconds(s.createdAt().getEpochSecond())
                        .setNanos(s.createdAt().getNano()))
                .setEphemeral(spec.ephemeral());
        spec.taskTimeout().ifPresent(t -> b.setTaskTimeout(com.google.protobuf.Duration.newBuilder()
                .setSeconds(t.getSeconds()).setNanos(t.getNano())));
        return b.build();
    }

    static PoolState state(Pool.Phase phase) {
        return switch (phase) {
            case RUNNING -> PoolState.POOL_STATE_RUNNING;
            case CLOSING -> PoolState.POOL_STATE_CLOSING;
            case ENDED -> PoolState.POOL_STATE_ENDED;
        };
    }

    static TaskInput input(dev.forkd.v1.TaskInput in) {
        return new TaskInput(in.getItem().toByteArray(), in.getArgsList());
    }

    static dev.forkd.v1.TaskResult result(TaskResult r) {
        dev.forkd.v1.TaskResult.Builder b = dev.forkd.v1.TaskResult.newBuilder()
                .setIndex(r.index())
                .setAttempts(r.attempts())
                .setProcessId(r.processId())
                .setAgentId(r.agentId())
                .setStartedAt(Timestamp.newBuilder().setSeconds(r.startedAt().getEpochSecond())
                        .setNanos(r.startedAt().getNano()))
                .setRuntime(com.google.protobuf.Duration.newBuilder().setSeconds(r.runtime().getSeconds())
                        .setNanos(r.runtime().getNano()));
        if (r.pid() > 0) {
            b.setPid(r.pid());
        }
        switch (r.outcome()) {
            case TaskResult.Outcome.Output o -> b.setOutput(ByteString.copyFrom(o.data()))
                    .setStderr(ByteString.copyFrom(o.stderr()));
            case TaskResult.Outcome.Failure f -> {
                b.setStderr(ByteString.copyFrom(f.stderr()));
                TaskFailure.Builder failure = TaskFailure.newBuilder()
                        .setKind(kind(f.kind()))
                        .setStderrTail(ByteString.copyFrom(f.stderrTail()))
                        .setMessage(f.message())
                        .setStdout(ByteString.copyFrom(f.stdout()));
                // A task that never started has no exit code; 0 would read as success.
                if (f.kind() != TaskResult.FailureKind.START) {
                    failure.setExitCode(f.exitCode());
                }
                b.setFailure(failure);
            }
        }
        return b.build();
    }

    static TaskFailureKind kind(TaskResult.FailureKind k) {
        return switch (k) {
            case EXIT -> TaskFailureKind.TASK_FAILURE_KIND_EXIT;
            case WORKER_DIED -> TaskFailureKind.TASK_FAILURE_KIND_WORKER_DIED;
            case TIMEOUT -> TaskFailureKind.TASK_FAILURE_KIND_TIMEOUT;
            case START -> TaskFailureKind.TASK_FAILURE_KIND_START;
            case TERMINATED -> TaskFailureKind.TASK_FAILURE_KIND_TERMINATED;
            case INITIALIZER -> TaskFailureKind.TASK_FAILURE_KIND_INITIALIZER;
        };
    }
}
