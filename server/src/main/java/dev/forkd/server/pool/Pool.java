package dev.forkd.server.pool;

import dev.forkd.server.events.Event;
import dev.forkd.server.events.EventKind;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.pool.TaskResult.FailureKind;
import dev.forkd.server.pool.TaskResult.Outcome;
import dev.forkd.server.process.ArgvLimits;
import dev.forkd.server.process.OutputLog;
import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.process.ProcessState;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.process.RestartSpec;
import dev.forkd.server.time.Timeout;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One pool: worker processes run through the {@link ProcessTable} and a queue of tasks.
 *
 * <p>Every field is guarded by the pool's monitor. Process-table calls that may call back are made
 * from the executor, never under the monitor; results are handed to their callbacks outside it,
 * in batches (the outbox), so a callback may call back into the pool.
 *
 * <p>Exactly once: a task is completed at most once ({@link Task#done}); a worker that dies
 * charges only the task it was working on (the first unanswered one, since responses come in
 * order); the tasks queued behind it go back to the front of the queue uncharged.
 */
public final class Pool {

    /** Where a pool is in its life. */
    public enum Phase { RUNNING, CLOSING, ENDED }

    static final int STDERR_TAIL = 4096;
    /** Requests written to one persistent worker ahead of its answers. */
    static final int PERSISTENT_WINDOW = 64;
    static final int MAX_RESPONSE = 64 * 1024 * 1024;
    static final int MAX_ASYNC_RESULTS = 100_000;
    /** How long a worker whose stdin was closed may take to exit before it is killed. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

    /** A submitted task. Its fields are guarded by the pool's monitor. */
    public static final class Task {
        final long index;
        final TaskInput input;
        final Consumer<TaskResult> onDone;
        final Runnable onSkipped;
        /** Set (under the pool's monitor, as its failure is recorded) by the first failed task of a halting group. */
        final Optional<AtomicBoolean> haltGroup;
        int attempts;
        boolean done;
        boolean timedOut;
        volatile boolean cancelled;
        String processId = "";
        int pid;
        String agentId = "";
        /** When its last attempt started (epoch); {@code null} before the first. */
        Instant startedAt;

        /** {@code onDone} is called once, outside the pool's monitor. */
        public Task(long index, TaskInput input, Consumer<TaskResult> onDone) {
            this(index, input, onDone, () -> {}, Optional.empty());
        }

        /**
         * {@code onSkipped} is called instead of {@code onDone} (once, outside the monitor) if the task
         * is cancelled before it starts. Tasks sharing a {@code haltGroup} stop starting once one of
         * them fails: the flag is set in the same step that records the failure, so no task of the
         * group starts after it (a Map stream's halt_on_error).
         */
        public Task(long index, TaskInput input, Consumer<TaskResult> onDone, Runnable onSkipped,
                Optional<AtomicBoolean> haltGroup) {
            this.index = index;
            this.input = input;
            this.onDone = onDone;
            this.onSkipped = onSkipped;
            this.haltGroup = haltGroup;
        }

        public TaskInput input() {
            return input;
        }

        /** Not to be started: its caller went away, or its group halted. */
        boolean skip() {
            return cancelled || haltGroup.map(AtomicBoolean::get).orElse(false);
        }

        /** Its caller went away: skip it if it has not started. */
        public void cancel() {
            cancelled = true;
        }
    }

    private final String id;
    private final PoolSpec spec;
    private final ProcessTable table;
    private final ScheduledExecutorService timers;
    private final Executor executor;
    private final Instant createdAt;
    private final java.time.Clock clock;
    private final ServerEvents events;
    /** Holds ApplyAsync inputs until their task ends, then their results until ForgetResult drops them. */
    private final MemoryBudget memory;
    /** Budget bytes held for ApplyAsync inputs and results; given back when the pool is forgotten. */
    private long asyncHeld;
    private boolean forgotten;

    private Phase phase = Phase.RUNNING;
    private boolean terminated;
    private final ArrayDeque<List<Task>> queue = new ArrayDeque<>();
    private long pending;
    private long succeeded;
    private long failed;
    private long retried;
    private long workersStarted;
    private long workerSeq;
    private long applySeq;
    private int idleCrashes;
    private final List<Runnable> endWaiters = new ArrayList<>();
    private final Map<Long, AsyncSlot> asyncResults = new HashMap<>();
    private final List<Slot> slots = new ArrayList<>();
    private final List<Worker> workers = new ArrayList<>();
    private boolean ready;
    private Consumer<Optional<ForkdException>> onReady = r -> {};
    private int readyCount;

    private final Object outboxLock = new Object();
    private final ArrayDeque<Runnable> outbox = new ArrayDeque<>();
    private boolean outboxScheduled;

    Pool(String id, PoolSpec spec, ProcessTable table, ScheduledExecutorService timers, Executor executor,
            java.time.Clock clock, MemoryBudget memory, ServerEvents events) {
        this.memory = memory;
        this.events = events;
        this.clock = clock;
        this.createdAt = clock.instant();
        this.id = id;
        this.spec = spec;
        this.table = table;
        this.timers = timers;
        this.executor = executor;
    }

    public String id() {
        return id;
    }

    public PoolSpec spec() {
        return spec;
    }

    /**
     * Starts the workers; {@code onReady} hears once: empty when every persistent worker (and its
     * initializer) is up, or why one could not start (then the pool is terminated).
     */
    synchronized void start(Consumer<Optional<ForkdException>> onReady) {
        if (spec.kind() == PoolSpec.Kind.PER_TASK) {
            for (int i = 0; i < spec.processes(); i++) {
                slots.add(new Slot(nextWorkerId()));
            }
            ready = true;
            deliver(() -> onReady.accept(Optional.empty()));
            return;
        }
        this.onReady = onReady;
        for (int i = 0; i < spec.processes(); i++) {
            startWorker();
        }
    }

    // ---- client calls -------------------------------------------------------------------------

    /** Checks an input against the worker kind; INVALID_ARGUMENT naming {@code field}. */
    public void validate(String field, TaskInput input) {
        if (spec.kind() == PoolSpec.Kind.PER_TASK && !spec.stdinItem()) {
            // The item becomes arguments: too long for execve is a bad item, not a failed task.
            // The largest index stands in for the task's own, which is not known yet.
            try {
                ArgvLimits.check(Template.substitute(spec.worker().argv(), input, Long.MAX_VALUE),
                        spec.worker().env(), "argv", "env");
            } catch (ForkdException.InvalidArgument e) {
                throw new ForkdException.InvalidArgument(field, "makes the task's command too long: "
                        + e.field() + " " + e.rule());
            }
        }
        if (spec.kind() == PoolSpec.Kind.PERSISTENT && spec.framing() == PoolSpec.Framing.LINE) {
            boolean bad = input.isTuple()
                    ? input.args().stream().anyMatch(a -> a.indexOf('\n') >= 0 || a.indexOf('\t') >= 0)
                    : indexOf(input.item(), 0, input.item().length, (byte) '\n') >= 0;
            if (bad) {
                throw new ForkdException.InvalidArgument(field, "contains a newline (or a tab in a tuple),"
                        + " which a line-framed worker cannot tell apart; use FRAMING_LENGTH_PREFIXED");
            }
        }
    }

    /** Queues tasks to run on one worker together (a chunk). */
    public synchronized void submit(List<Task> chunk) {
        if (phase != Phase.RUNNING) {
            throw notRunning();
        }
        if (chunk.isEmpty()) {
            return;
        }
        pending += chunk.size();
        queue.addLast(List.copyOf(chunk));
        dispatch();
    }

    /** Submits one task and returns its id ("t-N"); the result waits for {@link #getResult}. */
    public synchronized String applyAsync(TaskInput input) {
        if (phase != Phase.RUNNING) {
            throw notRunning();
        }
        if (asyncResults.size() >= MAX_ASYNC_RESULTS) {
            throw new ForkdException.ResourceExhausted("POOL_RESULTS_FULL", "pool \"" + id + "\" holds "
                    + asyncResults.size() + " kept results (max " + MAX_ASYNC_RESULTS + "); call ForgetResult");
        }
        long inputBytes = input.heldBytes();
        memory.reserve(inputBytes, "the input of an ApplyAsync task of pool \"" + id + "\"");
        asyncHeld += inputBytes;
        long n = ++applySeq;
        AsyncSlot slot = new AsyncSlot(n, inputBytes);
        asyncResults.put(n, slot);
        submit(List.of(new Task(n, input, r -> slot.complete(r))));
        return "t-" + n;
    }

    /** Submits one task; {@code onDone} gets its result. */
    public synchronized void apply(TaskInput input, Consumer<TaskResult> onDone) {
        if (phase != Phase.RUNNING) {
            throw notRunning();
        }
        submit(List.of(new Task(++applySeq, input, onDone)));
    }

    /**
     * Calls {@code onDone(result, ready)} once: with the result when it is ready, or with
     * {@code ready = false} when {@code timeout} passes first. The result stays until
     * {@link #forgetResult} (or the pool's end): a caller whose answer was lost asks again and gets it.
     */
    public ProcessTable.Cancellable getResult(String taskId, Optional<Duration> timeout,
            BiConsumer<Optional<TaskResult>, Boolean> onDone, Consumer<ForkdException> onRefused) {
        AsyncSlot slot;
        synchronized (this) {
            slot = asyncSlot(taskId);
        }
        return slot.await(timeout, (r, ok) -> {
            if (ok && slot.refusal != null) {
                onRefused.accept(slot.refusal); // the budget could not keep it: said each time asked
                return;
            }
            onDone.accept(Optional.ofNullable(r), ok);
        });
    }

    /**
     * Forgets a finished task's result, freeing its place among the {@link #MAX_ASYNC_RESULTS} kept.
     * A task still running is FAILED_PRECONDITION (TASK_NOT_DONE): its waiters would never be answered.
     */
    public synchronized void forgetResult(String taskId) {
        AsyncSlot slot = asyncSlot(taskId);
        if (slot.result == null) {
            throw new ForkdException.FailedPrecondition("TASK_NOT_DONE", "task \"" + taskId + "\" of pool \""
                    + id + "\" has not finished; forget its result once GetResult has it");
        }
        if (asyncResults.remove(slot.index, slot) && !forgotten) {
            memory.release(slot.resultBytes);
            asyncHeld -= slot.resultBytes;
        }
    }

    private AsyncSlot asyncSlot(String taskId) {
        long n = -1;
        if (taskId.startsWith("t-")) {
            try {
                n = Long.parseLong(taskId.substring(2));
            } catch (NumberFormatException e) {
                n = -1;
            }
        }
        AsyncSlot slot = asyncResults.get(n);
        if (slot == null) {
            throw new ForkdException.NotFound("task", taskId);
        }
        return slot;
    }

    /**
     * The registry forgot this pool: the results nobody took are dropped, and so are their bytes.
     * Results of tasks still ending after this are not held.
     */
    synchronized void forget() {
        if (!forgotten) {
            forgotten = true;
            memory.release(asyncHeld);
            asyncHeld = 0;
        }
    }

    /** No new tasks; the queued ones finish, then the workers stop. */
    public synchronized PoolSnapshot close() {
        if (phase == Phase.RUNNING) {
            phase = Phase.CLOSING;
        }
        dispatch();
        return snapshot();
    }

    /** Stops now: unfinished tasks fail as TERMINATED, every worker process group is killed. */
    public PoolSnapshot terminate() {
        List<String> toKill = new ArrayList<>();
        synchronized (this) {
            if (phase != Phase.ENDED && !terminated) {
                terminated = true;
                phase = Phase.CLOSING;
                Outcome why = new Outcome.Failure(FailureKind.TERMINATED, 0, new byte[0],
                        "pool " + id + " was terminated");
                for (List<Task> chunk : queue) {
                    chunk.forEach(t -> complete(t, why));
                }
                queue.clear();
                for (Slot s : slots) {
                    if (s.task != null) {
                        complete(s.task, why);
                    }
                    if (!s.processId.isEmpty()) {
                        toKill.add(s.processId);
                    }
                }
                for (Worker w : workers) {
                    w.inFlight.forEach(t -> complete(t, why));
                    w.inFlight.clear();
                    if (!w.processId.isEmpty()) {
                        toKill.add(w.processId);
                    }
                }
                if (!ready) {
                    ready = true;
                    Consumer<Optional<ForkdException>> r = onReady;
                    deliver(() -> r.accept(Optional.of(notRunning())));
                }
                checkEnded();
            }
        }
        toKill.forEach(this::kill);
        return snapshot();
    }

    /**
     * Calls {@code onDone(pool, timedOut)} once the pool has ended, or when {@code timeout} passes.
     * FAILED_PRECONDITION while it still runs (close or terminate it first). Cancel the answer when
     * the caller goes away, so no waiter is left behind.
     */
    public ProcessTable.Cancellable join(Optional<Duration> timeout, BiConsumer<PoolSnapshot, Boolean> onDone) {
        AtomicBoolean fired = new AtomicBoolean();
        Runnable finish = () -> {
            if (fired.compareAndSet(false, true)) {
                onDone.accept(snapshot(), false);
            }
        };
        Optional<ScheduledFuture<?>> timer;
        synchronized (this) {
            if (phase == Phase.RUNNING) {
                throw new ForkdException.FailedPrecondition("POOL_RUNNING", "pool \"" + id
                        + "\" is still running; close or terminate it before joining", Map.of("id", id));
            }
            if (phase == Phase.ENDED) {
                deliver(finish);
                return () -> {};
            }
            // The timer first, so that a failure leaves no waiter behind; its expiry needs this
            // monitor, so it cannot run before the waiter is added.
            timer = timeout.flatMap(t -> Timeout.schedule(timers, t, () -> {
                if (fired.compareAndSet(false, true)) {
                    synchronized (this) {
                        endWaiters.remove(finish);
                    }
                    onDone.accept(snapshot(), true);
                }
            }));
            endWaiters.add(finish);
        }
        return () -> {
            fired.set(true);
            timer.ifPresent(f -> f.cancel(false));
            synchronized (this) {
                endWaiters.remove(finish);
            }
        };
    }

    public synchronized PoolSnapshot snapshot() {
        List<String> live = new ArrayList<>();
        for (Worker w : workers) {
            if (!w.processId.isEmpty() && !w.initializing) {
                live.add(w.processId);
            }
        }
        for (Slot s : slots) {
            if (!s.processId.isEmpty()) {
                live.add(s.processId);
            }
        }
        return new PoolSnapshot(id, spec, phase, pending, succeeded, failed, retried, workersStarted,
                live, createdAt);
    }

    public synchronized Phase phase() {
        return phase;
    }

    // ---- dispatch -----------------------------------------------------------------------------

    private void dispatch() {
        if (!terminated) {
            if (spec.kind() == PoolSpec.Kind.PER_TASK) {
                dispatchPerTask();
            } else {
                dispatchPersistent();
            }
        }
        checkEnded();
    }

    private Task nextTask() {
        while (!queue.isEmpty()) {
            List<Task> chunk = queue.pollFirst();
            if (chunk.size() > 1) {
                queue.addFirst(chunk.subList(1, chunk.size()));
            }
            Task t = chunk.getFirst();
            if (t.skip() && !t.done) {
                t.done = true;
                pending--;
                deliver(t.onSkipped);
                continue;
            }
            if (!t.done) {
                return t;
            }
        }
        return null;
    }

    private boolean hasQueued() {
        return !queue.isEmpty();
    }

    /** Ended once closed (or terminated), with no task left and no process running. */
    private void checkEnded() {
        if (phase != Phase.CLOSING) {
            return;
        }
        if (!terminated && pending > 0) {
            return;
        }
        for (Worker w : List.copyOf(workers)) {
            if (w.state == WState.READY) {
                retire(w);
            }
        }
        if (!workers.isEmpty() || slots.stream().anyMatch(s -> s.busy)) {
            return;
        }
        phase = Phase.ENDED;
        List<Runnable> waiters = new ArrayList<>(endWaiters);
        endWaiters.clear();
        waiters.forEach(this::deliver);
    }

    private void complete(Task t, Outcome outcome) {
        if (t.done) {
            return;
        }
        t.done = true;
        pending--;
        if (outcome instanceof Outcome.Output) {
            succeeded++;
            idleCrashes = 0;
            events.poolTaskEnded("succeeded");
        } else {
            failed++;
            t.haltGroup.ifPresent(h -> h.set(true));
            if (outcome instanceof Outcome.Failure f) {
                String kind = f.kind().name().toLowerCase(java.util.Locale.ROOT);
                events.poolTaskEnded(kind);
                events.happened(new Event(EventKind.POOL_TASK_FAILED, id, spec.name(), spec.labels(),
                        Map.of("task", Long.toString(t.index), "failure", kind, "attempts", Integer.toString(t.attempts),
                                "exit_code", Integer.toString(f.exitCode()), "message", f.message()),
                        Optional.empty(), Optional.empty(), Optional.empty()));
            }
        }
        Instant now = clock.instant();
        Instant started = t.startedAt == null ? now : t.startedAt;
        TaskResult r = new TaskResult(t.index, outcome, t.attempts, t.processId, t.pid, t.agentId, started,
                Duration.between(started, now));
        deliver(() -> t.onDone.accept(r));
    }

    /** A task's run failed in a way worth running again (or not, if it has had its tries). */
    private void retryOrFail(Task t, FailureKind kind, int exitCode, byte[] stderrTail, String message) {
        retryOrFail(t, new Outcome.Failure(kind, exitCode, stderrTail, message));
    }

    private void retryOrFail(Task t, Outcome.Failure failure) {
        if (t.done) {
            return;
        }
        if (!terminated && t.attempts <= spec.maxRetries()) {
            t.timedOut = false;
            retried++;
            queue.addFirst(List.of(t));
        } else {
            complete(t, failure);
        }
    }

    // ---- per-task workers ---------------------------------------------------------------------

    /** One of the pool's {@code processes} places to run a task; its worker id changes when recycled. */
    private static final class Slot {
        String workerId;
        int tasksRun;
        boolean initialized;
        boolean busy;
        int run;
        Task task;
        String processId = "";
        ScheduledFuture<?> timer;

        Slot(String workerId) {
            this.workerId = workerId;
        }
    }

    private void dispatchPerTask() {
        for (Slot s : slots) {
            if (s.busy) {
                continue;
            }
            Task t = nextTask();
            if (t == null) {
                return;
            }
            s.busy = true;
            s.task = t;
            int run = ++s.run;
            if (!spec.initializer().isEmpty() && !s.initialized) {
                runInitializer(s.workerId, pid -> {
                    synchronized (this) {
                        if (s.run == run) {
                            s.processId = pid;
                        }
                    }
                }, error -> {
                    synchronized (this) {
                        s.processId = "";
                        if (error.isEmpty()) {
                            s.initialized = true;
                            if (!t.done) {
                                startTask(s, t, run);
                                return;
                            }
                        } else {
                            t.attempts++;
                            retryOrFail(t, FailureKind.INITIALIZER, 0, new byte[0], error.get());
                            recycle(s);
                        }
                        s.busy = false;
                        s.task = null;
                        dispatch();
                    }
                });
            } else {
                startTask(s, t, run);
            }
        }
    }

    private void recycle(Slot s) {
        s.workerId = nextWorkerId();
        s.tasksRun = 0;
        s.initialized = false;
    }

    private void startTask(Slot s, Task t, int run) {
        t.attempts++;
        t.startedAt = clock.instant();
        if (!t.input.isTuple() && indexOf(t.input.item(), 0, t.input.item().length, (byte) 0) >= 0 && !spec.stdinItem()) {
            complete(t, new Outcome.Failure(FailureKind.START, 0, new byte[0],
                    "item " + t.index + " contains a NUL byte, which cannot be a command argument"));
            s.busy = false;
            s.task = null;
            return;
        }
        List<String> argv = spec.stdinItem() ? Template.substituteIndex(spec.worker().argv(), t.index)
                : Template.substitute(spec.worker().argv(), t.input, t.index);
        Map<String, String> extra = Map.of("FORKD_TASK_INDEX", Long.toString(t.index));
        ProcessSpec ps = processSpec(argv, s.workerId, extra, spec.stdinItem(), "task");
        Optional<byte[]> stdin = spec.stdinItem() ? Optional.of(t.input.isTuple()
                ? (String.join("\t", t.input.args()) + "\n").getBytes(StandardCharsets.UTF_8) : t.input.item())
                : Optional.empty();
        runProcess(ps, stdin, started -> {
            synchronized (this) {
                if (s.run != run) {
                    return;
                }
                s.processId = started.id();
                t.processId = started.id();
                t.pid = started.pid();
                t.agentId = started.agentId().orElse("");
                workersStarted++;
                if (t.done) {
                    kill(started.id());
                    return;
                }
                spec.taskTimeout().ifPresent(limit -> s.timer = timers.schedule(() -> {
                    synchronized (this) {
                        if (s.run != run || t.done) {
                            return;
                        }
                        t.timedOut = true;
                    }
                    kill(started.id());
                }, Timeout.nanos(limit), TimeUnit.NANOSECONDS));
            }
        }, end -> {
            synchronized (this) {
                onTaskEnded(s, t, end);
            }
        });
    }

    private void onTaskEnded(Slot s, Task t, RunOutcome end) {
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
                case RunOutcome.NotStarted n -> complete(t, new Outcome.Failure(FailureKind.START, 0,
                        new byte[0], n.error().getMessage()));
                case RunOutcome.Ended e -> {
                    ProcessState state = e.process().state();
                    int code = e.process().exitCode();
                    if (state instanceof ProcessState.Exited x && x.exitCode() == 0 && !t.timedOut) {
                        if (e.truncated()) {
                            // Under the cap, only the memory budget trims a log: say which, so
                            // nobody raises a limit that was never reached.
                            complete(t, new Outcome.Failure(FailureKind.EXIT, 0, e.stderrTail(),
                                    e.outputEnd() > spec.worker().outputLimit()
                                            ? "its output was larger than the " + spec.worker().outputLimit() + "-byte limit"
                                            : "its output (" + e.outputEnd() + " bytes) was cut because the server's"
                                                    + " memory budget was full (" + MemoryBudget.REASON + ", set by forkd serve "
                                                    + MemoryBudget.FLAG + ")"));
                        } else {
                            complete(t, new Outcome.Output(e.stdout(), e.stderr()));
                        }
                    } else if (state instanceof ProcessState.Exited x && !t.timedOut) {
                        // A failed job's output is kept, as GNU parallel prints it.
                        var failure = e.failure(FailureKind.EXIT, code, "exited with code " + x.exitCode());
                        if (spec.retryFailed()) {
                            retryOrFail(t, failure);
                        } else {
                            complete(t, failure);
                        }
                    } else if (t.timedOut) {
                        retryOrFail(t, e.failure(FailureKind.TIMEOUT, code, "timed out after "
                                + spec.taskTimeout().map(Duration::toString).orElse("?") + " on each of "
                                + t.attempts + " attempt(s)"));
                    } else {
                        retryOrFail(t, e.failure(FailureKind.WORKER_DIED, code,
                                describe(e.process()) + " on each of " + t.attempts + " attempt(s)"));
                    }
                }
            }
        }
        dispatch();
    }

    // ---- persistent workers -------------------------------------------------------------------

    private enum WState { STARTING, READY, RETIRING, DEAD }

    /** One long-running worker process and the requests it has not answered yet. */
    private final class Worker {
        final String workerId;
        WState state = WState.STARTING;
        boolean initializing;
        String processId = "";
        int pid;
        String agentId = "";
        final ArrayDeque<Task> inFlight = new ArrayDeque<>();
        int assigned;
        final ByteArrayOutputStream toWrite = new ByteArrayOutputStream();
        boolean writing;
        boolean closeStdin;
        boolean stdinClosed;
        long cursor;
        byte[] buf = new byte[8192];
        int bufLen;
        volatile ProcessTable.WatchHandle handle;
        final AtomicInteger parsePending = new AtomicInteger();
        ScheduledFuture<?> headTimer;
        Task timedHead;
        final Tail stderr = new Tail(STDERR_TAIL);
        String killCause;

        Worker(String workerId) {
            this.workerId = workerId;
        }
    }

    private void startWorker() {
        Worker w = new Worker(nextWorkerId());
        workers.add(w);
        if (spec.initializer().isEmpty()) {
            spawnWorker(w);
            return;
        }
        w.initializing = true;
        runInitializer(w.workerId, pid -> {
            synchronized (this) {
                w.processId = pid;
            }
        }, error -> {
            synchronized (this) {
                w.initializing = false;
                w.processId = "";
                if (error.isPresent()) {
                    workers.remove(w);
                    workerCouldNotStart(FailureKind.INITIALIZER, error.get());
                } else if (terminated) {
                    workers.remove(w);
                    checkEnded();
                } else {
                    spawnWorker(w);
                }
            }
        });
    }

    private void spawnWorker(Worker w) {
        ProcessSpec ps = processSpec(spec.worker().argv(), w.workerId, Map.of(), true, "worker");
        executor.execute(() -> table.spawn(ps, started -> guarded(() -> onWorkerStarted(w, started)), error -> {
            synchronized (this) {
                workers.remove(w);
                workerCouldNotStart(FailureKind.START, error.getMessage());
            }
        }));
    }

    private void onWorkerStarted(Worker w, ProcessSnapshot started) {
        boolean kill;
        synchronized (this) {
            w.processId = started.id();
            w.pid = started.pid();
            w.agentId = started.agentId().orElse("");
            workersStarted++;
            kill = terminated;
            if (!kill) {
                w.state = WState.READY;
            }
        }
        if (kill) {
            kill(started.id());
        }
        try {
            w.handle = table.watch(started.id(), () -> scheduleParse(w));
        } catch (ForkdException e) {
            return; // deleted already: cannot happen, we are the only ones deleting it
        }
        scheduleParse(w);
        synchronized (this) {
            if (!ready && !terminated && ++readyCount >= spec.processes()) {
                ready = true;
                Consumer<Optional<ForkdException>> r = onReady;
                deliver(() -> r.accept(Optional.empty()));
            }
            dispatch();
        }
    }

    /** A worker program or its initializer failed to start: charge a waiting task, so no loop is endless. */
    private void workerCouldNotStart(FailureKind kind, String message) {
        if (!ready) {
            ready = true;
            Consumer<Optional<ForkdException>> r = onReady;
            ForkdException error = kind == FailureKind.INITIALIZER
                    ? new ForkdException.FailedPrecondition("POOL_INITIALIZER_FAILED", "the initializer of pool "
                            + id + " failed: " + message, Map.of("id", id))
                    : new ForkdException.FailedPrecondition("POOL_WORKER_START_FAILED", "a worker of pool "
                            + id + " could not start: " + message, Map.of("id", id));
            deliver(() -> r.accept(Optional.of(error)));
            executor.execute(this::terminate);
            return;
        }
        Task head = nextTask();
        if (head != null) {
            head.attempts++;
            queue.addFirst(List.of(head));
            if (head.attempts > spec.maxRetries()) {
                queue.pollFirst();
                complete(head, new Outcome.Failure(kind, 0, new byte[0], message));
            }
        }
        dispatch();
    }

    private void ensureWorkers() {
        if (terminated || phase == Phase.ENDED) {
            return;
        }
        long live = workers.stream().filter(w -> w.state != WState.RETIRING && w.state != WState.DEAD).count();
        while (live < spec.processes() && (hasQueued() || (phase == Phase.RUNNING && idleCrashes == 0))) {
            startWorker();
            live++;
        }
    }

    private void dispatchPersistent() {
        ensureWorkers();
        boolean progress = true;
        // One chunk per worker per round, so work spreads over all workers.
        boolean replace = false;
        // A worker takes at most its fair share of the unfinished tasks (up to the window): the
        // first worker to be ready must not take every task of a short map while the others start.
        long live = Math.max(1, workers.stream()
                .filter(w -> w.state != WState.RETIRING && w.state != WState.DEAD).count());
        long share = Math.max(1, Math.min(PERSISTENT_WINDOW, (pending + live - 1) / live));
        while (progress && hasQueued()) {
            progress = false;
            for (Worker w : List.copyOf(workers)) {
                if (w.state != WState.READY || w.inFlight.size() >= share) {
                    continue;
                }
                int room = spec.maxTasksPerChild() > 0 ? spec.maxTasksPerChild() - w.assigned : Integer.MAX_VALUE;
                if (room <= 0 || !hasQueued()) {
                    continue;
                }
                List<Task> chunk = queue.pollFirst();
                if (chunk.size() > room) {
                    queue.addFirst(chunk.subList(room, chunk.size()));
                    chunk = chunk.subList(0, room);
                }
                for (Task t : chunk) {
                    if (t.done) {
                        continue;
                    }
                    if (t.skip()) {
                        t.done = true;
                        pending--;
                        deliver(t.onSkipped);
                        continue;
                    }
                    t.attempts++;
                    t.startedAt = clock.instant();
                    t.processId = w.processId;
                    t.pid = w.pid;
                    t.agentId = w.agentId;
                    w.inFlight.addLast(t);
                    w.assigned++;
                    encode(t.input, w.toWrite);
                }
                progress = true;
                startHeadTimer(w);
                if (spec.maxTasksPerChild() > 0 && w.assigned >= spec.maxTasksPerChild()) {
                    retire(w);
                    replace = true;
                }
            }
        }
        if (replace) {
            ensureWorkers();
        }
        for (Worker w : List.copyOf(workers)) {
            flush(w);
        }
    }

    private void encode(TaskInput input, ByteArrayOutputStream out) {
        byte[] data = input.isTuple()
                ? String.join("\t", input.args()).getBytes(StandardCharsets.UTF_8) : input.item();
        if (spec.framing() == PoolSpec.Framing.LENGTH_PREFIXED) {
            out.write(data.length >>> 24);
            out.write(data.length >>> 16);
            out.write(data.length >>> 8);
            out.write(data.length);
            out.write(data, 0, data.length);
        } else {
            out.write(data, 0, data.length);
            out.write('\n');
        }
    }

    /** No more requests: close its stdin once what it was given is written; it should then exit. */
    private void retire(Worker w) {
        if (w.state != WState.READY) {
            return;
        }
        w.state = WState.RETIRING;
        w.closeStdin = true;
        flush(w);
        killIfStillThere(w);
    }

    /** A retired worker gets {@link #CLOSE_GRACE} after its last answer to exit on its own. */
    private void killIfStillThere(Worker w) {
        timers.schedule(() -> {
            String pid = null;
            synchronized (this) {
                if (!workers.contains(w)) {
                    return;
                }
                if (!w.inFlight.isEmpty()) {
                    killIfStillThere(w);
                    return;
                }
                pid = w.processId;
            }
            kill(pid);
        }, CLOSE_GRACE.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void flush(Worker w) {
        if (w.writing || w.stdinClosed || w.processId.isEmpty()
                || (w.state != WState.READY && w.state != WState.RETIRING)) {
            return;
        }
        if (w.toWrite.size() == 0 && !w.closeStdin) {
            return;
        }
        byte[] data = w.toWrite.toByteArray();
        w.toWrite.reset();
        boolean close = w.closeStdin;
        w.writing = true;
        try {
            table.writeStdin(w.processId, data, close, r -> {
                synchronized (this) {
                    w.writing = false;
                    if (r.closed()) {
                        w.stdinClosed = true;
                    }
                    if (r.error().isEmpty()) {
                        flush(w);
                    }
                }
            });
        } catch (ForkdException e) {
            w.writing = false;
            w.stdinClosed = true; // it has ended: its exit is handled when the watch sees it
        }
    }

    private void startHeadTimer(Worker w) {
        if (spec.taskTimeout().isEmpty()) {
            return;
        }
        Task head = w.inFlight.peekFirst();
        if (head == w.timedHead) {
            return;
        }
        if (w.headTimer != null) {
            w.headTimer.cancel(false);
            w.headTimer = null;
        }
        w.timedHead = head;
        if (head == null) {
            return;
        }
        Duration limit = spec.taskTimeout().get();
        w.headTimer = timers.schedule(() -> {
            String pid;
            synchronized (this) {
                if (w.inFlight.peekFirst() != head || head.done || w.state == WState.DEAD) {
                    return;
                }
                head.timedOut = true;
                w.killCause = "task " + head.index + " timed out after " + limit;
                pid = w.processId;
            }
            kill(pid);
        }, Timeout.nanos(limit), TimeUnit.NANOSECONDS);
    }

    private void scheduleParse(Worker w) {
        if (w.parsePending.getAndIncrement() == 0) {
            executor.execute(() -> {
                do {
                    w.parsePending.set(1);
                    synchronized (this) {
                        parse(w);
                    }
                } while (w.parsePending.decrementAndGet() != 0);
            });
        }
    }

    /** Reads what the worker wrote since last time, answers tasks, and handles its end. */
    private void parse(Worker w) {
        ProcessTable.WatchHandle h = w.handle;
        if (h == null || w.state == WState.DEAD) {
            return;
        }
        // The state first: output always arrives before the exit, so once final, all output is in.
        ProcessSnapshot snap = h.snapshot();
        boolean more = true;
        while (more) {
            switch (h.read(w.cursor, 1 << 20)) {
                case OutputLog.Read.Gap g -> {
                    garbage(w, "its output outran the pool (" + (g.resumedAt() - g.requested())
                            + " bytes dropped)");
                    w.cursor = g.resumedAt();
                }
                case OutputLog.Read.Data d -> {
                    for (OutputLog.Chunk c : d.chunks()) {
                        if (c.stream() == OutputLog.Stream.STDERR) {
                            w.stderr.add(c.bytes());
                        } else if (w.killCause == null) {
                            append(w, c.bytes());
                        }
                        w.cursor = c.end();
                    }
                }
                case OutputLog.Read.AtEnd a -> more = false;
            }
        }
        if (w.killCause == null) {
            parseResponses(w);
        }
        if (snap.state().isFinal()) {
            workerEnded(w, snap);
        } else {
            dispatch();
        }
    }

    private static void append(Worker w, byte[] data) {
        if (w.bufLen + data.length > w.buf.length) {
            w.buf = java.util.Arrays.copyOf(w.buf, Math.max(w.buf.length * 2, w.bufLen + data.length));
        }
        System.arraycopy(data, 0, w.buf, w.bufLen, data.length);
        w.bufLen += data.length;
    }

    private void parseResponses(Worker w) {
        int pos = 0;
        if (spec.framing() == PoolSpec.Framing.LINE) {
            int nl;
            while ((nl = indexOf(w.buf, pos, w.bufLen, (byte) '\n')) >= 0) {
                if (!respond(w, java.util.Arrays.copyOfRange(w.buf, pos, nl))) {
                    return;
                }
                pos = nl + 1;
            }
            if (w.bufLen - pos > MAX_RESPONSE) {
                garbage(w, "it wrote a line longer than " + MAX_RESPONSE + " bytes");
                return;
            }
        } else {
            while (w.bufLen - pos >= 4) {
                int len = ((w.buf[pos] & 0xff) << 24) | ((w.buf[pos + 1] & 0xff) << 16)
                        | ((w.buf[pos + 2] & 0xff) << 8) | (w.buf[pos + 3] & 0xff);
                if (len < 0 || len > MAX_RESPONSE) {
                    garbage(w, "it wrote a frame length of " + Integer.toUnsignedString(len)
                            + " (at most " + MAX_RESPONSE + ")");
                    return;
                }
                if (w.bufLen - pos - 4 < len) {
                    break;
                }
                if (!respond(w, java.util.Arrays.copyOfRange(w.buf, pos + 4, pos + 4 + len))) {
                    return;
                }
                pos += 4 + len;
            }
        }
        if (pos > 0) {
            System.arraycopy(w.buf, pos, w.buf, 0, w.bufLen - pos);
            w.bufLen -= pos;
        }
    }

    private boolean respond(Worker w, byte[] response) {
        Task t = w.inFlight.pollFirst();
        if (t == null) {
            garbage(w, "it wrote a response with no request outstanding");
            return false;
        }
        complete(t, new Outcome.Output(response));
        startHeadTimer(w);
        return true;
    }

    /** The worker broke the protocol: kill it; its unanswered tasks are handled when it has ended. */
    private void garbage(Worker w, String why) {
        if (w.killCause == null) {
            w.killCause = "worker " + w.processId + " was killed because " + why;
            kill(w.processId);
        }
    }

    private void workerEnded(Worker w, ProcessSnapshot end) {
        if (w.state == WState.DEAD) {
            return;
        }
        boolean expected = w.state == WState.RETIRING || terminated;
        w.state = WState.DEAD;
        workers.remove(w);
        if (w.headTimer != null) {
            w.headTimer.cancel(false);
        }
        ProcessTable.WatchHandle h = w.handle;
        if (h != null) {
            h.close();
        }
        String processId = w.processId;
        executor.execute(() -> forget(processId));
        String cause = w.killCause != null ? w.killCause : "worker " + processId + " " + describe(end);
        if (!w.inFlight.isEmpty()) {
            Task head = w.inFlight.pollFirst();
            List<Task> rest = new ArrayList<>(w.inFlight);
            w.inFlight.clear();
            rest.removeIf(t -> t.done);
            rest.forEach(t -> t.attempts--); // never started: not a try
            if (!rest.isEmpty()) {
                queue.addFirst(rest);
            }
            FailureKind kind = head.timedOut ? FailureKind.TIMEOUT : FailureKind.WORKER_DIED;
            retryOrFail(head, kind, end.exitCode(), w.stderr.bytes(), cause + " (attempt " + head.attempts + ")");
        } else if (!expected) {
            idleCrashes++;
        }
        dispatch();
    }

    // ---- running one process to its end ------------------------------------------------------

    /** How a one-off run (a per-task command or an initializer) ended. */
    private sealed interface RunOutcome {
        record NotStarted(ForkdException error) implements RunOutcome {}

        /**
         * @param stderr all of its stderr that was kept; {@code stderrTail} is its end
         * @param outputEnd how many bytes it wrote in all, kept or not
         */
        record Ended(ProcessSnapshot process, byte[] stdout, byte[] stderr, byte[] stderrTail, boolean truncated,
                long outputEnd) implements RunOutcome {
            Outcome.Failure failure(FailureKind kind, int exitCode, String message) {
                return new Outcome.Failure(kind, exitCode, stderrTail, message, stdout, stderr);
            }
        }
    }

    /** Spawns, waits for the end, collects the output, and deletes the record. */
    private void runProcess(ProcessSpec ps, Optional<byte[]> stdin, Consumer<ProcessSnapshot> onStarted,
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
        byte[] tail = err.length <= STDERR_TAIL ? err : java.util.Arrays.copyOfRange(err, err.length - STDERR_TAIL, err.length);
        return new RunOutcome.Ended(end, stdout.toByteArray(), err, tail, truncated, written);
    }

    /** Runs the initializer for a worker; {@code onEnd} gets empty on success, else why it failed. */
    private void runInitializer(String workerId, Consumer<String> onStarted, Consumer<Optional<String>> onEnd) {
        ProcessSpec ps = processSpec(spec.initializer(), workerId, Map.of(), false, "initializer");
        runProcess(ps, Optional.empty(), started -> {
            boolean kill;
            synchronized (this) {
                kill = terminated;
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

    private ProcessSpec processSpec(List<String> argv, String workerId, Map<String, String> extraEnv,
            boolean stdinPipe, String role) {
        ProcessSpec w = spec.worker();
        Map<String, String> env = new HashMap<>(w.env());
        env.put("FORKD_POOL_ID", id);
        env.put("FORKD_POOL_WORKER", workerId);
        env.putAll(extraEnv);
        Map<String, String> labels = new HashMap<>(spec.labels());
        labels.put("forkd.pool", id);
        labels.put("forkd.pool.worker", workerId);
        labels.put("forkd.pool.role", role);
        return new ProcessSpec(argv, env, w.cwd(), Optional.empty(), labels, stdinPipe, false, Optional.empty(),
                RestartSpec.NEVER, w.outputLimit(), Duration.ofSeconds(1), Optional.empty(), false, w.limits());
    }

    private void kill(String processId) {
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

    private void forget(String processId) {
        try {
            table.delete(processId);
        } catch (ForkdException e) {
            // gone already, or not ended (cannot be: we delete only ended ones)
        }
    }

    private String nextWorkerId() {
        return "w-" + (++workerSeq);
    }

    private ForkdException notRunning() {
        return terminated
                ? new ForkdException.FailedPrecondition("POOL_TERMINATED", "pool \"" + id + "\" was terminated",
                        Map.of("id", id))
                : new ForkdException.FailedPrecondition("POOL_CLOSED", "pool \"" + id
                        + "\" is closed and takes no new tasks", Map.of("id", id));
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

    static int indexOf(byte[] a, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Process-table callbacks run on agent stream threads: a bug here must not break the agent's
     * stream, so it is logged instead of thrown.
     */
    private static void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            java.util.logging.Logger.getLogger(Pool.class.getName())
                    .log(java.util.logging.Level.SEVERE, "pool callback failed", e);
        }
    }

    /** Runs result callbacks outside the monitor, in order, batched onto one executor task. */
    private void deliver(Runnable r) {
        boolean schedule;
        synchronized (outboxLock) {
            outbox.addLast(r);
            schedule = !outboxScheduled;
            outboxScheduled = true;
        }
        if (schedule) {
            executor.execute(this::drainOutbox);
        }
    }

    private void drainOutbox() {
        while (true) {
            List<Runnable> batch;
            synchronized (outboxLock) {
                if (outbox.isEmpty()) {
                    outboxScheduled = false;
                    return;
                }
                batch = new ArrayList<>(outbox);
                outbox.clear();
            }
            for (Runnable r : batch) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    java.util.logging.Logger.getLogger(Pool.class.getName())
                            .log(java.util.logging.Level.WARNING, "pool callback failed", e);
                }
            }
        }
    }

    /** The last bytes of a stream. */
    static final class Tail {
        private final int limit;
        private final ArrayDeque<byte[]> parts = new ArrayDeque<>();
        private int size;

        Tail(int limit) {
            this.limit = limit;
        }

        void add(byte[] data) {
            parts.addLast(data);
            size += data.length;
            while (size - parts.peekFirst().length >= limit) {
                size -= parts.pollFirst().length;
            }
        }

        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream(size);
            parts.forEach(p -> out.write(p, 0, p.length));
            byte[] all = out.toByteArray();
            return all.length <= limit ? all : java.util.Arrays.copyOfRange(all, all.length - limit, all.length);
        }
    }

    /** The result of one ApplyAsync task, and who waits for it. */
    private final class AsyncSlot {
        private final long index;
        private final long inputBytes;
        private long resultBytes;
        /** Set when the memory budget could not hold the result: GetResult answers this instead. */
        private ForkdException refusal;
        private TaskResult result;
        private final List<BiConsumer<TaskResult, Boolean>> waiters = new ArrayList<>();

        AsyncSlot(long index, long inputBytes) {
            this.index = index;
            this.inputBytes = inputBytes;
        }

        void complete(TaskResult r) {
            List<BiConsumer<TaskResult, Boolean>> w;
            synchronized (Pool.this) {
                if (!forgotten) {
                    memory.release(inputBytes);
                    asyncHeld -= inputBytes;
                    long bytes = r.heldBytes();
                    if (memory.tryReserve(bytes)) {
                        resultBytes = bytes;
                        asyncHeld += bytes;
                    } else {
                        // Refused rather than grown past the budget; the reader is told, not left waiting.
                        refusal = memory.exhausted(bytes, "the result of task t-" + index + " of pool \"" + id + "\"");
                        // Its bytes are not kept either: the reader gets the refusal, never this.
                        r = new TaskResult(r.index(), new Outcome.Output(new byte[0]), r.attempts(), r.processId(),
                                r.pid(), r.agentId(), r.startedAt(), r.runtime());
                    }
                }
                result = r;
                w = new ArrayList<>(waiters);
                waiters.clear();
            }
            // Every waiter gets it; it stays for later GetResults until ForgetResult.
            if (!w.isEmpty()) {
                w.getFirst().accept(r, true);
                for (int i = 1; i < w.size(); i++) {
                    w.get(i).accept(r, true);
                }
            }
        }

        /**
         * Waits for the result. Cancelling removes the waiter, so a caller that went away never
         * takes (and loses) the result another caller would get.
         */
        ProcessTable.Cancellable await(Optional<Duration> timeout, BiConsumer<TaskResult, Boolean> onDone) {
            AtomicBoolean fired = new AtomicBoolean();
            BiConsumer<TaskResult, Boolean> once = (r, ok) -> {
                if (fired.compareAndSet(false, true)) {
                    onDone.accept(r, ok);
                }
            };
            TaskResult now;
            Optional<ScheduledFuture<?>> timer = Optional.empty();
            synchronized (Pool.this) {
                now = result;
                if (now == null) {
                    if (timeout.isPresent() && timeout.get().isZero()) {
                        deliver(() -> once.accept(null, false));
                        return () -> {};
                    }
                    // The timer first, so that a failure leaves no waiter behind; its expiry needs
                    // this monitor, so it cannot run before the waiter is added.
                    timer = timeout.flatMap(t -> Timeout.schedule(timers, t, () -> {
                        synchronized (Pool.this) {
                            waiters.remove(once);
                        }
                        once.accept(null, false);
                    }));
                    waiters.add(once);
                }
            }
            if (now != null) {
                once.accept(now, true);
                return () -> {};
            }
            Optional<ScheduledFuture<?>> waitTimer = timer;
            return () -> {
                fired.set(true);
                waitTimer.ifPresent(f -> f.cancel(false));
                synchronized (Pool.this) {
                    waiters.remove(once);
                }
            };
        }
    }
}
