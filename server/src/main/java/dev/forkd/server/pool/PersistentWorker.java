package dev.forkd.server.pool;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.time.Timeout;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One long-running worker process of a pool, the requests it has not answered yet, and its pipes.
 * Guarded by the pool's monitor, as {@link PersistentWorkers}, which decides what it is given.
 */
final class PersistentWorker {

    /** How long a worker whose stdin was closed may take to exit before it is killed. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(5);
    private static final Logger LOG = Logger.getLogger(PersistentWorker.class.getName());

    enum State { STARTING, READY, RETIRING, DEAD }

    final String workerId;
    State state = State.STARTING;
    boolean initializing;
    String processId = "";
    int pid;
    String agentId = "";
    final ArrayDeque<PoolTask> inFlight = new ArrayDeque<>();
    /** Since when it works on the first of {@link #inFlight} (written to it idle, or its previous answer). */
    Instant busySince;
    int assigned;
    final ByteArrayOutputStream toWrite = new ByteArrayOutputStream();
    final WorkerFraming wire;
    long cursor;
    volatile ProcessTable.WatchHandle handle;
    private final AtomicInteger parsePending = new AtomicInteger();
    final OutputTail stderr = new OutputTail(WorkerProcesses.STDERR_TAIL);
    ScheduledFuture<?> headTimer;
    String killCause;

    private final Pool pool;
    private final PoolSpec spec;
    private final WorkerProcesses procs;
    private final ScheduledExecutorService timers;
    private boolean writing;
    private boolean closeStdin;
    private boolean stdinClosed;
    private PoolTask timedHead;

    PersistentWorker(String workerId, Pool pool, PoolSpec spec, WorkerProcesses procs,
            ScheduledExecutorService timers) {
        this.workerId = workerId;
        this.pool = pool;
        this.spec = spec;
        this.procs = procs;
        this.timers = timers;
        this.wire = new WorkerFraming(spec.framing());
    }

    /**
     * Runs {@code parse} (under the pool's monitor) on the executor, unless a parse is under way: its
     * loop then parses once more. For a change of state, whose thread may be in the middle of something.
     */
    void parseSoon(Executor executor, Runnable parse) {
        if (parsePending.getAndIncrement() == 0) {
            executor.execute(() -> parseWhilePending(parse));
        }
    }

    /**
     * As {@link #parseSoon}, on this thread, which holds no lock (the one its output was reported on):
     * the next request is written, and the answer handed to its caller, with no hand-off.
     */
    void parseHere(Outbox outbox, Runnable parse) {
        if (parsePending.getAndIncrement() == 0) {
            outbox.deliverAfter(() -> parseWhilePending(parse));
        }
    }

    /** One parse at a time: a change reported during one is parsed by the same loop. */
    private void parseWhilePending(Runnable parse) {
        do {
            parsePending.set(1);
            try {
                synchronized (pool) {
                    parse.run();
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "pool " + pool.id() + ": handling worker " + processId + " failed", e);
            }
        } while (parsePending.decrementAndGet() != 0);
    }

    /** No more requests: close its stdin once what it was given is written; it should then exit. */
    void retire() {
        if (state != State.READY) {
            return;
        }
        state = State.RETIRING;
        closeStdin = true;
        flush();
        killIfStillThere();
    }

    /** A retired worker gets {@link #CLOSE_GRACE} after its last answer to exit on its own. */
    private void killIfStillThere() {
        timers.schedule(() -> {
            String pid = null;
            synchronized (pool) {
                if (state == State.DEAD) {
                    return;
                }
                if (!inFlight.isEmpty()) {
                    killIfStillThere();
                    return;
                }
                pid = processId;
            }
            procs.kill(pid);
        }, CLOSE_GRACE.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Writes what it was given and not yet written (one write at a time), closing stdin when retired. */
    void flush() {
        if (writing || stdinClosed || processId.isEmpty() || (state != State.READY && state != State.RETIRING)) {
            return;
        }
        if (toWrite.size() == 0 && !closeStdin) {
            return;
        }
        byte[] data = toWrite.toByteArray();
        toWrite.reset();
        boolean close = closeStdin;
        writing = true;
        try {
            procs.table().writeStdin(processId, data, close, r -> {
                synchronized (pool) {
                    writing = false;
                    if (r.closed()) {
                        stdinClosed = true;
                    }
                    if (r.error().isEmpty()) {
                        flush();
                    }
                }
            });
        } catch (ForkdException e) {
            writing = false;
            stdinClosed = true; // it has ended: its exit is handled when the watch sees it
        }
    }

    /** Times the task it is working on now (the first unanswered), if tasks have a timeout. */
    void startHeadTimer() {
        if (spec.taskTimeout().isEmpty()) {
            return;
        }
        PoolTask head = inFlight.peekFirst();
        if (head == timedHead) {
            return;
        }
        if (headTimer != null) {
            headTimer.cancel(false);
            headTimer = null;
        }
        timedHead = head;
        if (head == null) {
            return;
        }
        Duration limit = spec.taskTimeout().get();
        headTimer = timers.schedule(() -> {
            String pid;
            synchronized (pool) {
                if (inFlight.peekFirst() != head || head.done || state == State.DEAD) {
                    return;
                }
                head.timedOut = true;
                killCause = "task " + head.index + " timed out after " + limit;
                pid = processId;
            }
            procs.kill(pid);
        }, Timeout.nanos(limit), TimeUnit.NANOSECONDS);
    }

    /** It broke the protocol: kill it; its unanswered tasks are handled when it has ended. */
    void garbage(String why) {
        if (killCause == null) {
            killCause = "worker " + processId + " was killed because " + why;
            procs.kill(processId);
        }
    }
}
