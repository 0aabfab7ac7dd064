package dev.forkd.server.pool;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.pool.TaskResult.FailureKind;
import dev.forkd.server.pool.TaskResult.Outcome;
import dev.forkd.server.pool.WorkerProcesses.RunOutcome;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.process.ProcessState;
import dev.forkd.server.time.Timeout;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Per-task workers: each task is one process, in one of the pool's {@code processes} slots. */
final class PerTaskWorkers implements Workers {

    /** One of the pool's places to run a task; its worker id changes when recycled. */
    private static final class Slot {
        String workerId;
        int tasksRun;
        boolean initialized;
        boolean busy;
        int run;
        PoolTask task;
        String processId = "";
        ScheduledFuture<?> timer;

        Slot(String workerId) {
            this.workerId = workerId;
        }
    }

    private final Pool pool;
    private final PoolSpec spec;
    private final TaskQueue tasks;
    private final WorkerProcesses procs;
    private final ScheduledExecutorService timers;
    private final Clock clock;
    private final Outbox outbox;
    private final List<Slot> slots = new ArrayList<>();
    private long started;

    PerTaskWorkers(Pool pool, PoolSpec spec, TaskQueue tasks, WorkerProcesses procs, ScheduledExecutorService timers,
            Clock clock, Outbox outbox) {
        this.pool = pool;
        this.spec = spec;
        this.tasks = tasks;
        this.procs = procs;
        this.timers = timers;
        this.clock = clock;
        this.outbox = outbox;
    }

    @Override
    public void start(Consumer<Optional<ForkdException>> onReady) {
        synchronized (pool) {
            for (int i = 0; i < spec.processes(); i++) {
                slots.add(new Slot(procs.nextWorkerId()));
            }
        }
        outbox.deliver(() -> onReady.accept(Optional.empty()));
    }

    @Override
    public void dispatch() {
        for (Slot s : slots) {
            if (s.busy) {
                continue;
            }
            PoolTask t = tasks.next();
            if (t == null) {
                return;
            }
            s.busy = true;
            s.task = t;
            int run = ++s.run;
            if (!spec.initializer().isEmpty() && !s.initialized) {
                procs.runInitializer(s.workerId, pool, pid -> {
                    synchronized (pool) {
                        if (s.run == run) {
                            s.processId = pid;
                        }
                    }
                }, error -> {
                    synchronized (pool) {
                        s.processId = "";
                        if (error.isEmpty()) {
                            s.initialized = true;
                            if (!t.done) {
                                startTask(s, t, run);
                                return;
                            }
                        } else {
                            t.attempts++;
                            tasks.retryOrFail(t, FailureKind.INITIALIZER, 0, new byte[0], error.get());
                            recycle(s);
                        }
                        s.busy = false;
                        s.task = null;
                        pool.dispatch();
                    }
                });
            } else {
                startTask(s, t, run);
            }
        }
    }

    @Override
    public void terminate(Outcome why, List<String> toKill) {
        for (Slot s : slots) {
            if (s.task != null) {
                tasks.complete(s.task, why);
            }
            if (!s.processId.isEmpty()) {
                toKill.add(s.processId);
            }
        }
    }

    @Override
    public boolean windDown() {
        return slots.stream().noneMatch(s -> s.busy);
    }

    @Override
    public void addLive(List<String> processIds) {
        for (Slot s : slots) {
            if (!s.processId.isEmpty()) {
                processIds.add(s.processId);
            }
        }
    }

    @Override
    public long started() {
        return started;
    }

    private void recycle(Slot s) {
        s.workerId = procs.nextWorkerId();
        s.tasksRun = 0;
        s.initialized = false;
    }

    private void startTask(Slot s, PoolTask t, int run) {
        t.attempts++;
        t.startedAt = clock.instant();
        if (!t.input.isTuple() && WorkerFraming.indexOf(t.input.item(), 0, t.input.item().length, (byte) 0) >= 0
                && !spec.stdinItem()) {
            tasks.complete(t, new Outcome.Failure(FailureKind.START, 0, new byte[0],
                    "item " + t.index + " contains a NUL byte, which cannot be a command argument"));
            s.busy = false;
            s.task = null;
            return;
        }
        List<String> argv = spec.stdinItem() ? Template.substituteIndex(spec.worker().argv(), t.index)
                : Template.substitute(spec.worker().argv(), t.input, t.index);
        Map<String, String> extra = Map.of("FORKD_TASK_INDEX", Long.toString(t.index));
        ProcessSpec ps = procs.processSpec(argv, s.workerId, extra, spec.stdinItem(), "task");
        Optional<byte[]> stdin = spec.stdinItem() ? Optional.of(t.input.isTuple()
                ? (String.join("\t", t.input.args()) + "\n").getBytes(StandardCharsets.UTF_8) : t.input.item())
                : Optional.empty();
        procs.runProcess(ps, stdin, process -> {
            synchronized (pool) {
                if (s.run != run) {
                    return;
                }
                s.processId = process.id();
                t.processId = process.id();
                t.pid = process.pid();
                t.agentId = process.agentId().orElse("");
                started++;
                if (t.done) {
                    procs.kill(process.id());
                    return;
                }
                spec.taskTimeout().ifPresent(limit -> s.timer = timers.schedule(() -> {
                    synchronized (pool) {
                        if (s.run != run || t.done) {
                            return;
                        }
                        t.timedOut = true;
                    }
                    procs.kill(process.id());
                }, Timeout.nanos(limit), TimeUnit.NANOSECONDS));
            }
        }, end -> {
            synchronized (pool) {
                onTaskEnded(s, t, end);
            }
        });
    }

    private void onTaskEnded(Slot s, PoolTask t, RunOutcome end) {
        if (s.timer != null) {
            s.timer.cancel(false);
            s.timer = null;
        }
        s.busy = false;
        s.task = null;
        s.processId = "";
        if (++s.tasksRun >= spec.maxTasksPerChild() && spec.maxTasksPerChild() > 0) {
            recycle(s);
        }
        if (!t.done) {
            switch (end) {
                case RunOutcome.NotStarted n -> tasks.complete(t, new Outcome.Failure(FailureKind.START, 0,
                        new byte[0], n.error().getMessage()));
                case RunOutcome.Ended e -> taskEnded(t, e);
            }
        }
        pool.dispatch();
    }

    private void taskEnded(PoolTask t, RunOutcome.Ended e) {
        ProcessState state = e.process().state();
        int code = e.process().exitCode();
        if (state instanceof ProcessState.Exited x && x.exitCode() == 0 && !t.timedOut) {
            if (e.truncated()) {
                // Under the cap, only the memory budget trims a log: say which, so nobody raises a
                // limit that was never reached.
                tasks.complete(t, new Outcome.Failure(FailureKind.EXIT, 0, e.stderrTail(),
                        e.outputEnd() > spec.worker().outputLimit()
                                ? "its output was larger than the " + spec.worker().outputLimit() + "-byte limit"
                                : "its output (" + e.outputEnd() + " bytes) was cut because the server's"
                                        + " memory budget was full (" + MemoryBudget.REASON + ", set by forkd serve "
                                        + MemoryBudget.FLAG + ")"));
            } else {
                tasks.complete(t, new Outcome.Output(e.stdout(), e.stderr()));
            }
        } else if (state instanceof ProcessState.Exited x && !t.timedOut) {
            // A failed job's output is kept, as GNU parallel prints it.
            var failure = e.failure(FailureKind.EXIT, code, "exited with code " + x.exitCode());
            if (spec.retryFailed()) {
                tasks.retryOrFail(t, failure);
            } else {
                tasks.complete(t, failure);
            }
        } else if (t.timedOut) {
            tasks.retryOrFail(t, e.failure(FailureKind.TIMEOUT, code, "timed out after "
                    + spec.taskTimeout().map(Duration::toString).orElse("?") + " on each of "
                    + t.attempts + " attempt(s)"));
        } else {
            tasks.retryOrFail(t, e.failure(FailureKind.WORKER_DIED, code,
                    WorkerProcesses.describe(e.process()) + " on each of " + t.attempts + " attempt(s)"));
        }
    }
}
