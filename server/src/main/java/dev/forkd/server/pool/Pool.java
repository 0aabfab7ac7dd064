package dev.forkd.server.pool;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.pool.TaskResult.FailureKind;
import dev.forkd.server.pool.TaskResult.Outcome;
import dev.forkd.server.process.ArgvLimits;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import dev.forkd.server.time.Timeout;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One pool: its life (running, closing, ended), the calls clients make on it, and the parts that do
 * the work: a {@link TaskQueue}, its {@link Workers} (per-task or persistent), and the
 * {@link AsyncResults} of its ApplyAsync tasks.
 *
 * <p>Every field is guarded by the pool's monitor, which its parts share. Process-table calls that
 * may call back are made from the executor, never under the monitor; results are handed to their
 * callbacks outside it, through the {@link Outbox}, so a callback may call back into the pool.
 *
 * <p>Exactly once: a task is completed at most once ({@link PoolTask#done}).
 */
public final class Pool {

    /** Where a pool is in its life. */
    public enum Phase { RUNNING, CLOSING, ENDED }

    /** The row of pools' definitions in the state store. */
    static final String KIND = "pool";

    private final String id;
    private final PoolSpec spec;
    private final ScheduledExecutorService timers;
    private final Executor executor;
    private final Instant createdAt;
    private final StateStore store;
    private final Outbox outbox;
    private final TaskQueue tasks;
    private final Workers workers;
    private final WorkerProcesses procs;
    private final AsyncResults results;

    private PoolLife life = new PoolLife.Running();
    /** The phase last written to the store (a terminated pool is kept as ended). */
    private Phase savedPhase;
    private boolean forgotten;
    /** The server is stopping: its phase as the stop leaves it is not kept. */
    private boolean frozen;
    private long applySeq;
    private final List<Runnable> endWaiters = new ArrayList<>();

    Pool(String id, PoolSpec spec, ProcessTable table, ScheduledExecutorService timers, Executor executor,
            Clock clock, MemoryBudget memory, ServerEvents events, StateStore store, Instant createdAt) {
        this.id = id;
        this.spec = spec;
        this.timers = timers;
        this.executor = executor;
        this.createdAt = createdAt;
        this.store = spec.ephemeral() ? StateStore.none() : store;
        this.outbox = new Outbox(executor);
        this.tasks = new TaskQueue(id, spec, clock, events, outbox);
        this.procs = new WorkerProcesses(id, spec, table, executor, this::terminated);
        this.workers = spec.kind() == PoolSpec.Kind.PER_TASK
                ? new PerTaskWorkers(this, spec, tasks, procs, timers, clock, outbox)
                : new PersistentWorkers(this, spec, tasks, procs, timers, executor, clock, outbox);
        this.results = new AsyncResults(id, memory, timers, outbox, this.store);
    }

    public String id() {
        return id;
    }

    public PoolSpec spec() {
        return spec;
    }

    /** Starts the workers; {@code onReady} hears once (see {@link Workers#start}). */
    synchronized void start(Consumer<Optional<ForkdException>> onReady) {
        workers.start(onReady);
        if (tasks.hasQueued()) {
            dispatch(); // tasks restored from the store
        }
    }

    // ---- the store ------------------------------------------------------------------------------

    /** Keeps the definition and phase; completes once committed. Under the monitor, so rows follow the phases in order. */
    synchronized CompletableFuture<Void> save() {
        Phase keep = life.terminated() ? Phase.ENDED : life.phase();
        if (!store.keeps() || forgotten || frozen || keep == savedPhase) {
            return CompletableFuture.completedFuture(null);
        }
        savedPhase = keep;
        return store.put(KIND, AsyncResults.key(PoolRegistry.seqOf(this)),
                PoolCodec.pool(new PoolCodec.PoolRecord(id, spec, keep, createdAt)));
    }

    /** The server is stopping: what the stop does to this pool (killed workers, failed tasks) is not kept. */
    synchronized void stopping() {
        frozen = true;
        results.freeze();
    }

    /**
     * Brings back what the store kept of this pool (before anyone can call it): its phase, the
     * results not yet forgotten, and the tasks submitted and not answered, which run again.
     */
    synchronized void restore(Phase kept, List<StoreRow> taskRows, List<StoreRow> resultRows) {
        savedPhase = kept;
        List<AsyncResults.Unanswered> again = results.restore(taskRows, resultRows);
        applySeq = results.highest();
        life = switch (kept) {
            case RUNNING -> new PoolLife.Running();
            case CLOSING -> again.isEmpty() ? new PoolLife.Ended(false) : new PoolLife.Closing(false);
            case ENDED -> new PoolLife.Ended(false);
        };
        if (!(life instanceof PoolLife.Ended)) {
            for (AsyncResults.Unanswered u : again) {
                tasks.add(List.of(new PoolTask(u.slot().index, u.input(), u.slot()::complete)));
            }
        } else {
            Outcome why = new Outcome.Failure(FailureKind.TERMINATED, 0, new byte[0], "pool " + id
                    + " had ended when the server restarted");
            again.forEach(u -> u.slot().complete(new TaskResult(u.slot().index, why, 0, "", 0, "", createdAt,
                    Duration.ZERO)));
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
                    : WorkerFraming.indexOf(input.item(), 0, input.item().length, (byte) '\n') >= 0;
            if (bad) {
                throw new ForkdException.InvalidArgument(field, "contains a newline (or a tab in a tuple),"
                        + " which a line-framed worker cannot tell apart; use FRAMING_LENGTH_PREFIXED");
            }
        }
    }

    /** Queues tasks to run on one worker together (a chunk). */
    public synchronized void submit(List<PoolTask> chunk) {
        if (!(life instanceof PoolLife.Running)) {
            throw notRunning();
        }
        if (chunk.isEmpty()) {
            return;
        }
        tasks.add(chunk);
        dispatch();
    }

    /**
     * Submits one task; answers its id ("t-N") once the task is kept in the store (at once without
     * one), so an acknowledged task survives a restart. The result waits for {@link #getResult}.
     * Fails as the call would: POOL_CLOSED, POOL_RESULTS_FULL, the budget, or the store.
     */
    public CompletableFuture<String> applyAsync(TaskInput input) {
        AsyncResults.Slot slot;
        synchronized (this) {
            if (!(life instanceof PoolLife.Running)) {
                throw notRunning();
            }
            slot = results.add(applySeq + 1, input);
            applySeq++;
        }
        CompletableFuture<Void> saved = results.save(slot, input);
        // Once kept, the task is queued from the executor, not from the store's writer thread.
        return (saved.isDone() ? saved.handle((v, error) -> queueKept(slot, input, error))
                : saved.handleAsync((v, error) -> queueKept(slot, input, error), executor));
    }

    /** A task whose row the store answered for: queued, or refused (and its row dropped) as the call's answer. */
    private String queueKept(AsyncResults.Slot slot, TaskInput input, Throwable error) {
        if (error != null) {
            results.drop(slot);
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            throw new ForkdException.Unavailable("STATE_STORE_UNAVAILABLE", "the task could not be kept: "
                    + cause.getMessage());
        }
        synchronized (this) {
            if (!(life instanceof PoolLife.Running)) {
                results.drop(slot); // closed while its row was written: refused, as if asked after
                throw notRunning();
            }
            tasks.add(List.of(new PoolTask(slot.index, input, slot::complete)));
            dispatch();
        }
        return "t-" + slot.index;
    }

    /** Submits one task; {@code onDone} gets its result. */
    public synchronized void apply(TaskInput input, Consumer<TaskResult> onDone) {
        if (!(life instanceof PoolLife.Running)) {
            throw notRunning();
        }
        submit(List.of(new PoolTask(++applySeq, input, onDone)));
    }

    /**
     * Calls {@code onDone(result, ready)} once: with the result when it is ready, or with
     * {@code ready = false} when {@code timeout} passes first. The result stays until
     * {@link #forgetResult} (or the pool's end): a caller whose answer was lost asks again and gets it.
     */
    public ProcessTable.Cancellable getResult(String taskId, Optional<Duration> timeout,
            BiConsumer<Optional<TaskResult>, Boolean> onDone, Consumer<ForkdException> onRefused) {
        return results.get(taskId, timeout, onDone, onRefused);
    }

    /**
     * Forgets a finished task's result, freeing its place among the
     * {@link AsyncResults#MAX_ASYNC_RESULTS} kept. A task still running is FAILED_PRECONDITION
     * (TASK_NOT_DONE): its waiters would never be answered.
     */
    public void forgetResult(String taskId) {
        results.forget(taskId);
    }

    /**
     * The registry forgot this pool: the results nobody took are dropped, and so are their bytes
     * and every row it kept. Results of tasks still ending after this are not held.
     */
    synchronized void forget() {
        if (!forgotten) {
            forgotten = true;
            results.forgetAll(savedPhase == null ? List.of()
                    : List.of(new StoreWrite.Delete(KIND, AsyncResults.key(PoolRegistry.seqOf(this)))));
        }
    }

    /** No new tasks; the queued ones finish, then the workers stop. */
    public synchronized PoolSnapshot close() {
        move(new PoolLife.Event.Close());
        dispatch();
        return snapshot();
    }

    /** Stops now: unfinished tasks fail as TERMINATED, every worker process group is killed. */
    public PoolSnapshot terminate() {
        List<String> toKill = new ArrayList<>();
        synchronized (this) {
            if (move(new PoolLife.Event.Terminate())) {
                Outcome why = new Outcome.Failure(FailureKind.TERMINATED, 0, new byte[0],
                        "pool " + id + " was terminated");
                tasks.failAll(why);
                workers.terminate(why, toKill);
                checkEnded();
            }
        }
        toKill.forEach(procs::kill);
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
            if (life instanceof PoolLife.Running) {
                throw new ForkdException.FailedPrecondition("POOL_RUNNING", "pool \"" + id
                        + "\" is still running; close or terminate it before joining", Map.of("id", id));
            }
            if (life instanceof PoolLife.Ended) {
                outbox.deliver(finish);
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
        workers.addLive(live);
        return new PoolSnapshot(id, spec, life.phase(), tasks.pending(), tasks.succeeded(), tasks.failed(), tasks.retried(),
                workers.started(), live, createdAt);
    }

    public synchronized Phase phase() {
        return life.phase();
    }

    // ---- for the workers, under the monitor ------------------------------------------------------

    /** Hands queued tasks to workers, then checks whether the pool has ended. */
    void dispatch() {
        if (!life.terminated()) {
            workers.dispatch();
        }
        checkEnded();
    }

    boolean terminated() {
        return life.terminated();
    }

    Phase phaseLocked() {
        return life.phase();
    }

    /** Ended once closed (or terminated), with no task left and no process running. */
    void checkEnded() {
        if (!(life instanceof PoolLife.Closing closing)) {
            return;
        }
        if (!closing.terminated() && tasks.pending() > 0) {
            return;
        }
        if (workers.windDown()) {
            move(new PoolLife.Event.Drained());
        }
    }

    /**
     * The one place a pool's life changes ({@link PoolLife#next}), and what follows: the store keeps
     * it, and an ended pool's joiners are answered. Answers whether anything changed.
     */
    private boolean move(PoolLife.Event event) {
        PoolLife before = life;
        life = PoolLife.next(life, event);
        if (life.equals(before)) {
            return false;
        }
        save();
        if (life instanceof PoolLife.Ended) {
            List<Runnable> waiters = new ArrayList<>(endWaiters);
            endWaiters.clear();
            waiters.forEach(outbox::deliver);
        }
        return true;
    }

    ForkdException notRunning() {
        return life.terminated()
                ? new ForkdException.FailedPrecondition("POOL_TERMINATED", "pool \"" + id + "\" was terminated",
                        Map.of("id", id))
                : new ForkdException.FailedPrecondition("POOL_CLOSED", "pool \"" + id
                        + "\" is closed and takes no new tasks", Map.of("id", id));
    }
}
