package dev.forkd.server.pool;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.pool.PersistentWorker.State;
import dev.forkd.server.pool.TaskResult.FailureKind;
import dev.forkd.server.pool.TaskResult.Outcome;
import dev.forkd.server.process.OutputLog;
import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.time.Timeout;
import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Persistent workers: long-running processes fed requests on stdin, answering in order on stdout.
 *
 * <p>A worker that dies charges only the task it was working on (the first unanswered one, since
 * responses come in order); the tasks queued behind it go back to the front of the queue uncharged.
 */
final class PersistentWorkers implements Workers {

    private final Pool pool;
    private final PoolSpec spec;
    private final TaskQueue tasks;
    private final WorkerProcesses procs;
    private final ScheduledExecutorService timers;
    private final Executor executor;
    private final Clock clock;
    private final Outbox outbox;
    private final List<PersistentWorker> workers = new ArrayList<>();
    private final DispatchWindow window = new DispatchWindow();
    private long started;
    private boolean ready;
    private Consumer<Optional<ForkdException>> onReady = r -> {};
    private int readyCount;

    PersistentWorkers(Pool pool, PoolSpec spec, TaskQueue tasks, WorkerProcesses procs,
            ScheduledExecutorService timers, Executor executor, Clock clock, Outbox outbox) {
        this.pool = pool;
        this.spec = spec;
        this.tasks = tasks;
        this.procs = procs;
        this.timers = timers;
        this.executor = executor;
        this.clock = clock;
        this.outbox = outbox;
    }

    @Override
    public void start(Consumer<Optional<ForkdException>> onReady) {
        synchronized (pool) {
            this.onReady = onReady;
            for (int i = 0; i < spec.processes(); i++) {
                startWorker();
            }
        }
    }

    @Override
    public void terminate(Outcome why, List<String> toKill) {
        for (PersistentWorker w : workers) {
            w.inFlight.forEach(t -> tasks.complete(t, why));
            w.inFlight.clear();
            if (!w.processId.isEmpty()) {
                toKill.add(w.processId);
            }
        }
        if (!ready) {
            ready = true;
            Consumer<Optional<ForkdException>> r = onReady;
            ForkdException notRunning = pool.notRunning();
            outbox.deliver(() -> r.accept(Optional.of(notRunning)));
        }
    }

    @Override
    public boolean windDown() {
        for (PersistentWorker w : List.copyOf(workers)) {
            if (w.state == State.READY) {
                w.retire();
            }
        }
        return workers.isEmpty();
    }

    @Override
    public void addLive(List<String> processIds) {
        for (PersistentWorker w : workers) {
            if (!w.processId.isEmpty() && !w.initializing) {
                processIds.add(w.processId);
            }
        }
    }

    @Override
    public long started() {
        return started;
    }

    private void startWorker() {
        PersistentWorker w = new PersistentWorker(procs.nextWorkerId(), pool, spec, procs, timers);
        workers.add(w);
        if (spec.initializer().isEmpty()) {
            spawnWorker(w);
            return;
        }
        w.initializing = true;
        procs.runInitializer(w.workerId, pool, pid -> {
            synchronized (pool) {
                w.processId = pid;
            }
        }, error -> {
            synchronized (pool) {
                w.initializing = false;
                w.processId = "";
                if (error.isPresent()) {
                    workers.remove(w);
                    workerCouldNotStart(FailureKind.INITIALIZER, error.get());
                } else if (pool.terminated()) {
                    workers.remove(w);
                    pool.checkEnded();
                } else {
                    spawnWorker(w);
                }
            }
        });
    }

    private void spawnWorker(PersistentWorker w) {
        procs.spawn(procs.processSpec(spec.worker().argv(), w.workerId, Map.of(), true, "worker"),
                process -> onWorkerStarted(w, process), error -> {
                    synchronized (pool) {
                        workers.remove(w);
                        workerCouldNotStart(FailureKind.START, error.getMessage());
                    }
                });
    }

    private void onWorkerStarted(PersistentWorker w, ProcessSnapshot process) {
        boolean kill;
        synchronized (pool) {
            w.processId = process.id();
            w.pid = process.pid();
            w.agentId = process.agentId().orElse("");
            started++;
            kill = pool.terminated();
            if (!kill) {
                w.state = State.READY;
            }
        }
        if (kill) {
            procs.kill(process.id());
        }
        try {
            // Its output is parsed on the thread that reports it; a change of state on the executor.
            w.handle = procs.table().watch(process.id(), () -> w.parseSoon(executor, () -> parse(w)),
                    () -> w.parseHere(outbox, () -> parse(w)));
        } catch (ForkdException e) {
            return; // deleted already: cannot happen, we are the only ones deleting it
        }
        w.parseSoon(executor, () -> parse(w));
        synchronized (pool) {
            if (!ready && !pool.terminated() && ++readyCount >= spec.processes()) {
                ready = true;
                Consumer<Optional<ForkdException>> r = onReady;
                outbox.deliver(() -> r.accept(Optional.empty()));
            }
            pool.dispatch();
        }
    }

    /** A worker program or its initializer failed to start: charge a waiting task, so no loop is endless. */
    private void workerCouldNotStart(FailureKind kind, String message) {
        if (!ready) {
            ready = true;
            Consumer<Optional<ForkdException>> r = onReady;
            String id = pool.id();
            ForkdException error = kind == FailureKind.INITIALIZER
                    ? new ForkdException.FailedPrecondition("POOL_INITIALIZER_FAILED", "the initializer of pool "
                            + id + " failed: " + message, Map.of("id", id))
                    : new ForkdException.FailedPrecondition("POOL_WORKER_START_FAILED", "a worker of pool "
                            + id + " could not start: " + message, Map.of("id", id));
            outbox.deliver(() -> r.accept(Optional.of(error)));
            executor.execute(pool::terminate);
            return;
        }
        PoolTask head = tasks.next();
        if (head != null) {
            head.attempts++;
            if (head.attempts > spec.maxRetries()) {
                tasks.complete(head, new Outcome.Failure(kind, 0, new byte[0], message));
            } else {
                tasks.putBack(List.of(head));
            }
        }
        pool.dispatch();
    }

    private long live() {
        return workers.stream().filter(w -> w.state != State.RETIRING && w.state != State.DEAD).count();
    }

    private void ensureWorkers() {
        if (pool.terminated() || pool.phaseLocked() == Pool.Phase.ENDED) {
            return;
        }
        long live = live();
        while (live < spec.processes()
                && (tasks.hasQueued() || (pool.phaseLocked() == Pool.Phase.RUNNING && !tasks.crashedIdle()))) {
            startWorker();
            live++;
        }
    }

    @Override
    public void dispatch() {
        ensureWorkers();
        boolean progress = true;
        // One chunk per worker per round, so work spreads over all workers.
        boolean replace = false;
        // A worker takes at most its fair share of the unfinished tasks, and no more than its window
        // (DispatchWindow): the first worker to be ready must not take every task of a short map
        // while the others start, nor a worker of long tasks take what another could start now.
        if (tasks.pending() == 0) {
            window.idle();
        }
        long live = Math.max(1, live());
        long share = Math.max(1, (tasks.pending() + live - 1) / live);
        Instant now = clock.instant();
        while (progress && tasks.hasQueued()) {
            progress = false;
            for (PersistentWorker w : List.copyOf(workers)) {
                if (w.state != State.READY || w.inFlight.size() >= Math.min(share, window.window(
                        w.inFlight.isEmpty() ? null : Duration.between(w.busySince, now)))) {
                    continue;
                }
                int room = spec.maxTasksPerChild() > 0 ? spec.maxTasksPerChild() - w.assigned : Integer.MAX_VALUE;
                if (room <= 0 || !tasks.hasQueued()) {
                    continue;
                }
                List<PoolTask> chunk = tasks.pollChunk();
                if (chunk.size() > room) {
                    tasks.putBack(chunk.subList(room, chunk.size()));
                    chunk = chunk.subList(0, room);
                }
                for (PoolTask t : chunk) {
                    if (t.done || tasks.skipped(t)) {
                        continue;
                    }
                    t.attempts++;
                    t.startedAt = clock.instant();
                    t.processId = w.processId;
                    t.pid = w.pid;
                    t.agentId = w.agentId;
                    if (w.inFlight.isEmpty()) {
                        w.busySince = now;
                    }
                    w.inFlight.addLast(t);
                    w.assigned++;
                    w.wire.encode(t.input, w.toWrite);
                }
                progress = true;
                w.startHeadTimer();
                if (spec.maxTasksPerChild() > 0 && w.assigned >= spec.maxTasksPerChild()) {
                    w.retire();
                    replace = true;
                }
            }
        }
        if (replace) {
            ensureWorkers();
        }
        for (PersistentWorker w : List.copyOf(workers)) {
            w.flush();
        }
    }

    /** Reads what the worker wrote since last time, answers tasks, and handles its end. */
    private void parse(PersistentWorker w) {
        ProcessTable.WatchHandle h = w.handle;
        if (h == null || w.state == State.DEAD) {
            return;
        }
        // The state first: output always arrives before the exit, so once final, all output is in.
        ProcessSnapshot snap = h.snapshot();
        boolean more = true;
        while (more) {
            switch (h.read(w.cursor, 1 << 20)) {
                case OutputLog.Read.Gap g -> {
                    w.garbage("its output outran the pool (" + (g.resumedAt() - g.requested())
                            + " bytes dropped)");
                    w.cursor = g.resumedAt();
                }
                case OutputLog.Read.Data d -> {
                    for (OutputLog.Chunk c : d.chunks()) {
                        if (c.stream() == OutputLog.Stream.STDERR) {
                            w.stderr.add(c.bytes());
                        } else if (w.killCause == null) {
                            w.wire.append(c.bytes());
                        }
                        w.cursor = c.end();
                    }
                }
                case OutputLog.Read.Lost l -> {
                    w.garbage("its output was lost when the server stopped (" + (l.resumedAt() - l.from())
                            + " bytes)");
                    w.cursor = l.resumedAt();
                }
                case OutputLog.Read.AtEnd a -> more = false;
            }
        }
        if (w.killCause == null) {
            w.wire.drain(response -> respond(w, response), w::garbage);
        }
        if (snap.state().isFinal()) {
            workerEnded(w, snap);
        } else {
            pool.dispatch();
        }
    }

    private boolean respond(PersistentWorker w, byte[] response) {
        PoolTask t = w.inFlight.pollFirst();
        if (t == null) {
            w.garbage("it wrote a response with no request outstanding");
            return false;
        }
        Instant now = clock.instant();
        window.answered(Duration.between(w.busySince, now));
        w.busySince = now; // the next one, if any, is worked on from now
        tasks.complete(t, new Outcome.Output(response));
        w.startHeadTimer();
        return true;
    }

    private void workerEnded(PersistentWorker w, ProcessSnapshot end) {
        if (w.state == State.DEAD) {
            return;
        }
        boolean expected = w.state == State.RETIRING || pool.terminated();
        w.state = State.DEAD;
        workers.remove(w);
        if (w.headTimer != null) {
            w.headTimer.cancel(false);
        }
        ProcessTable.WatchHandle h = w.handle;
        if (h != null) {
            h.close();
        }
        String processId = w.processId;
        procs.forgetLater(processId);
        String cause = w.killCause != null ? w.killCause
                : "worker " + processId + " " + WorkerProcesses.describe(end);
        if (!w.inFlight.isEmpty()) {
            PoolTask head = w.inFlight.pollFirst();
            List<PoolTask> rest = new ArrayList<>(w.inFlight);
            w.inFlight.clear();
            rest.removeIf(t -> t.done);
            rest.forEach(t -> t.attempts--); // never started: not a try
            if (!rest.isEmpty()) {
                tasks.putBack(rest);
            }
            FailureKind kind = head.timedOut ? FailureKind.TIMEOUT : FailureKind.WORKER_DIED;
            tasks.retryOrFail(head, kind, end.exitCode(), w.stderr.bytes(),
                    cause + " (attempt " + head.attempts + ")");
        } else if (!expected) {
            tasks.workerCrashedIdle();
        }
        pool.dispatch();
    }
}
