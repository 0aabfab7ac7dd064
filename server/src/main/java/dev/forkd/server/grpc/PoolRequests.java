package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.pool.PoolRegistry;
import dev.forkd.server.pool.PoolSpec;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.time.Timeout;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.WorkerSpec;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Checks a CreatePoolRequest field by field and turns it into a {@link PoolSpec}. */
final class PoolRequests {

    static final int MAX_RETRIES = 100;

    private final SpawnRequests spawnRequests;
    private final int cpus;

    PoolRequests(SpawnRequests spawnRequests, int cpus) {
        this.spawnRequests = spawnRequests;
        this.cpus = cpus;
    }

    PoolSpec toSpec(CreatePoolRequest r, boolean ephemeral, String field) {
        String p = field.isEmpty() ? "" : field + ".";
        if (!r.getName().isEmpty()) {
            SpawnRequests.checkName(p + "name", r.getName(), "pool");
        }
        if (r.hasProcesses() && (r.getProcesses() < 1 || r.getProcesses() > PoolRegistry.MAX_PROCESSES)) {
            throw new InvalidArgument(p + "processes", "must be between 1 and " + PoolRegistry.MAX_PROCESSES
                    + " (leave it unset for the CPU count, " + cpus + "), got " + r.getProcesses());
        }
        int processes = r.hasProcesses() ? r.getProcesses() : cpus;
        if (!r.hasWorker() || r.getWorker().getArgvCount() == 0) {
            throw new InvalidArgument(p + "worker.argv", "must hold at least the program (argv[0])");
        }
        WorkerSpec w = r.getWorker();
        PoolSpec.Kind kind = switch (w.getKind()) {
            case WORKER_KIND_UNSPECIFIED, WORKER_KIND_PER_TASK -> PoolSpec.Kind.PER_TASK;
            case WORKER_KIND_PERSISTENT -> PoolSpec.Kind.PERSISTENT;
            case UNRECOGNIZED -> throw new InvalidArgument(p + "worker.kind", "unknown value " + w.getKindValue());
        };
        PoolSpec.Framing framing = switch (w.getFraming()) {
            case FRAMING_UNSPECIFIED, FRAMING_LINE -> PoolSpec.Framing.LINE;
            case FRAMING_LENGTH_PREFIXED -> PoolSpec.Framing.LENGTH_PREFIXED;
            case UNRECOGNIZED -> throw new InvalidArgument(p + "worker.framing", "unknown value " + w.getFramingValue());
        };
        if (kind == PoolSpec.Kind.PERSISTENT && w.getStdinItem()) {
            throw new InvalidArgument(p + "worker.stdin_item", "is for per-task workers only (a persistent"
                    + " worker always reads its requests on stdin)");
        }
        if (kind == PoolSpec.Kind.PER_TASK && !w.getStdinItem() && !hasPlaceholder(w.getArgvList())) {
            throw new InvalidArgument(p + "worker.argv", "has no {} (or {1}, {2}, ...) for the item, and"
                    + " stdin_item is off: the task would never see its item");
        }
        SpawnRequest.Builder workerRequest = SpawnRequest.newBuilder()
                .addAllArgv(w.getArgvList()).putAllEnv(w.getEnvMap()).setCwd(w.getCwd());
        if (w.hasLimits()) {
            workerRequest.setLimits(w.getLimits());
        }
        ProcessSpec worker = spawnSpec(p + "worker", workerRequest.build());
        if (r.getMaxTasksPerChild() < 0) {
            throw new InvalidArgument(p + "max_tasks_per_child", "must not be negative (0: never replace)");
        }
        if (r.getMaxRetries() < 0 || r.getMaxRetries() > MAX_RETRIES) {
            throw new InvalidArgument(p + "max_retries", "must be between 0 and " + MAX_RETRIES);
        }
        if (r.getRetryFailed() && kind == PoolSpec.Kind.PERSISTENT) {
            throw new InvalidArgument(p + "retry_failed", "is for per-task workers only");
        }
        List<String> init = r.getInitializerList();
        if (!init.isEmpty()) {
            spawnSpec(p + "initializer", SpawnRequest.newBuilder().addAllArgv(init).build());
        }
        Optional<Duration> timeout = Optional.empty();
        if (r.hasTaskTimeout()) {
            Duration t = Protos.duration(p + "task_timeout", r.getTaskTimeout());
            if (t.isZero()) {
                throw new InvalidArgument(p + "task_timeout", "must be positive (leave it unset for no limit)");
            }
            timeout = Timeout.limit(t); // a huge one is no limit
        }
        spawnSpec(p + "labels", SpawnRequest.newBuilder().addArgv("x").putAllLabels(r.getLabelsMap()).build());
        return new PoolSpec(r.getName().isEmpty() ? Optional.empty() : Optional.of(r.getName()), processes, kind,
                framing, w.getStdinItem(), worker, r.getMaxTasksPerChild(), init, timeout, r.getMaxRetries(),
                r.getRetryFailed(), r.getLabelsMap(), ephemeral);
    }

    /** The process rules (argv, env, cwd, labels), with the field named under {@code prefix}. */
    private ProcessSpec spawnSpec(String prefix, SpawnRequest r) {
        try {
            return spawnRequests.toSpec(r, Optional.empty());
        } catch (InvalidArgument e) {
            throw new InvalidArgument(prefix + "." + e.field(), e.rule());
        }
    }

    private static boolean hasPlaceholder(List<String> argv) {
        for (String a : argv) {
            if (a.contains("{}") || a.matches("(?s).*\\{[0-9]+}.*")) {
                return true;
            }
        }
        return false;
    }
}
