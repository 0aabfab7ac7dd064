package dev.forkd.server.pool;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.OutputLog;
import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.process.ProcessState;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.process.RestartSpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A pool's side of the {@link ProcessTable}: the spec of each worker process, running one to its
 * end and collecting its output, killing, and deleting ended records. Table calls that may call back
 * are made from the executor, never under the pool's monitor.
 */
final class WorkerProcesses {

    static final int STDERR_TAIL = 4096;

    private static final Logger LOG = Logger.getLogger(WorkerProcesses.class.getName());

    private final String poolId;
    private final PoolSpec spec;
    private final ProcessTable table;
    private final Executor executor;
    /** Whether the pool was terminated; read under the pool's monitor. */
    private final BooleanSupplier terminated;
    /** Guarded by the pool's monitor. */
    private long workerSeq;

    WorkerProcesses(String poolId, PoolSpec spec, ProcessTable table, Executor executor, BooleanSupplier terminated) {
        this.poolId = poolId;
        this.spec = spec;
        this.table = table;
        this.executor = executor;
        this.terminated = terminated;
    }

    ProcessTable table() {
        return table;
    }

    /** A new worker id ("w-N"), stable over one worker's life. Under the pool's monitor. */
    String nextWorkerId() {
        return "w-" + (++workerSeq);
    }

    /** How a one-off run (a per-task command or an initializer) ended. */
    sealed interface RunOutcome {
        record NotStarted(ForkdException error) implements RunOutcome {}

        /**
         * @param stderr all of its stderr that was kept; {@code stderrTail} is its end
         * @param outputEnd how many bytes it wrote in all, kept or not
         */
        record Ended(ProcessSnapshot process, byte[] stdout, byte[] stderr, byte[] stderrTail, boolean truncated,
                long outputEnd) implements RunOutcome {
            TaskResult.Outcome.Failure failure(TaskResult.FailureKind kind, int exitCode, String message) {
                return new TaskResult.Outcome.Failure(kind, exitCode, stderrTail, message, stdout, stderr);
            }
        }
    }

    /** Spawns, waits for the end, collects the output, and deletes the record. */
    void runProcess(ProcessSpec ps, Optional<byte[]> stdin, Consumer<ProcessSnapshot> onStarted,
            Consumer<RunOutcome> onEnd) {
        executor.execute(() -> table.spawn(ps, started -> guarded(() -> {
            onStarted.accept(started);
            stdin.ifPresent(bytes -> {
                try {
                    table.writeStdin(started.id(), bytes, true, r -> {});
                } catch (ForkdException e) {
                    // ended already; its exit tells the rest
                }
            });
            table.join(started.id(), Optional.empty(),
                    (snap, timedOut) -> guarded(() -> onEnd.accept(collect(snap))));
        }), error -> guarded(() -> onEnd.accept(new RunOutcome.NotStarted(error)))));
    }

    /** Spawns a long-running process; {@code onError} hears why it could not start. */
    void spawn(ProcessSpec ps, Consumer<ProcessSnapshot> onStarted, Consumer<ForkdException> onError) {
        executor.execute(() -> table.spawn(ps, started -> guarded(() -> onStarted.accept(started)), onError));
    }

    private RunOutcome collect(ProcessSnapshot end) {
        // Both streams are bounded by the process's output log, which the pool's output limit caps.
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        boolean truncated = false;
        long written = end.outputEnd();
        try {
            ProcessTable.WatchHandle h = table.watch(end.id(), () -> {});
            try {
                long cursor = 0;
                boolean more = true;
                while (more) {
                    switch (h.read(cursor, 1 << 20)) {
                        case OutputLog.Read.Gap g -> {
                            truncated = true;
                            cursor = g.resumedAt();
                        }
                        case OutputLog.Read.Data d -> {
                            for (OutputLog.Chunk c : d.chunks()) {
                                if (c.stream() == OutputLog.Stream.STDERR) {
                                    stderr.writeBytes(c.bytes());
                                } else {
                                    stdout.writeBytes(c.bytes());
                                }
                                cursor = c.end();
                            }
                        }
                        case OutputLog.Read.Lost l -> {
                            truncated = true;
                            cursor = l.resumedAt();
                        }
                        case OutputLog.Read.AtEnd a -> more = false;
                    }
                }
                written = Math.max(written, cursor);
            } finally {
                h.close();
            }
        } catch (ForkdException e) {
            truncated = true;
        }
        forget(end.id());
        byte[] err = stderr.toByteArray();
        byte[] tail = err.length <= STDERR_TAIL ? err
                : java.util.Arrays.copyOfRange(err, err.length - STDERR_TAIL, err.length);
        return new RunOutcome.Ended(end, stdout.toByteArray(), err, tail, truncated, written);
    }

    /** Runs the initializer for a worker; {@code onEnd} gets empty on success, else why it failed. */
    void runInitializer(String workerId, Object poolLock, Consumer<String> onStarted,
            Consumer<Optional<String>> onEnd) {
        ProcessSpec ps = processSpec(spec.initializer(), workerId, Map.of(), false, "initializer");
        runProcess(ps, Optional.empty(), started -> {
            boolean kill;
            synchronized (poolLock) {
                kill = terminated.getAsBoolean();
            }
            onStarted.accept(started.id());
            if (kill) {
                kill(started.id());
            }
        }, end -> onEnd.accept(switch (end) {
            case RunOutcome.NotStarted n -> Optional.of(n.error().getMessage());
            case RunOutcome.Ended e -> e.process().state() instanceof ProcessState.Exited x && x.exitCode() == 0
                    ? Optional.empty()
                    : Optional.of("initializer " + describe(e.process()) + tailText(e.stderrTail()));
        }));
    }

    ProcessSpec processSpec(List<String> argv, String workerId, Map<String, String> extraEnv,
            boolean stdinPipe, String role) {
        ProcessSpec w = spec.worker();
        Map<String, String> env = new HashMap<>(w.env());
        env.put("FORKD_POOL_ID", poolId);
        env.put("FORKD_POOL_WORKER", workerId);
        env.putAll(extraEnv);
        Map<String, String> labels = new HashMap<>(spec.labels());
        labels.put("forkd.pool", poolId);
        labels.put("forkd.pool.worker", workerId);
        labels.put("forkd.pool.role", role);
        return new ProcessSpec(argv, env, w.cwd(), Optional.empty(), labels, stdinPipe, false, Optional.empty(),
                RestartSpec.NEVER, w.outputLimit(), Duration.ofSeconds(1), Optional.empty(), false, w.limits());
    }

    void kill(String processId) {
        if (processId.isEmpty()) {
            return;
        }
        executor.execute(() -> {
            try {
                table.signal(processId, new ProcessTable.SignalAction.Kill());
            } catch (ForkdException e) {
                // gone already
            }
        });
    }

    /** Deletes an ended worker's record (from the executor). */
    void forgetLater(String processId) {
        executor.execute(() -> forget(processId));
    }

    private void forget(String processId) {
        try {
            table.delete(processId);
        } catch (ForkdException e) {
            // gone already, or not ended (cannot be: we delete only ended ones)
        }
    }

    static String describe(ProcessSnapshot p) {
        return switch (p.state()) {
            case ProcessState.Exited x -> "exited with code " + x.exitCode();
            case ProcessState.Signaled s -> "was killed by signal " + s.signal();
            case ProcessState.Lost l -> "was lost: " + l.cause();
            case ProcessState.FailedToStart f -> "could not start: " + f.error().message();
            default -> "ended (" + ProcessTable.stateName(p.state()) + ")";
        };
    }

    private static String tailText(byte[] tail) {
        if (tail.length == 0) {
            return "";
        }
        return ": " + new String(tail, StandardCharsets.UTF_8).strip();
    }

    /**
     * Process-table callbacks run on agent stream threads: a bug here must not break the agent's
     * stream, so it is logged instead of thrown.
     */
    static void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "pool callback failed", e);
        }
    }
}
