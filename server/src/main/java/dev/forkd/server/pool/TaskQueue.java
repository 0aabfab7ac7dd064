package dev.forkd.server.pool;

import dev.forkd.server.events.Event;
import dev.forkd.server.events.EventKind;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.pool.TaskResult.FailureKind;
import dev.forkd.server.pool.TaskResult.Outcome;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A pool's tasks waiting for a worker, and the one place a task ends: counted, reported, and its
 * result handed to its caller (outside the monitor, through the outbox).
 *
 * <p>Guarded by the pool's monitor: every method is called holding it.
 */
final class TaskQueue {

    private final String poolId;
    private final PoolSpec spec;
    private final Clock clock;
    private final ServerEvents events;
    private final Outbox outbox;
    private final ArrayDeque<List<PoolTask>> queue = new ArrayDeque<>();
    private boolean retrying = true;
    private long pending;
    private long succeeded;
    private long failed;
    private long retried;
    /** Workers that died with no task since the last success: a pool does not restart a crashing worker idly. */
    private int idleCrashes;

    TaskQueue(String poolId, PoolSpec spec, Clock clock, ServerEvents events, Outbox outbox) {
        this.poolId = poolId;
        this.spec = spec;
        this.clock = clock;
        this.events = events;
        this.outbox = outbox;
    }

    void add(List<PoolTask> chunk) {
        pending += chunk.size();
        queue.addLast(List.copyOf(chunk));
    }

    /** Puts tasks back at the front (a retry, or the unanswered tasks of a dead worker). */
    void putBack(List<PoolTask> tasks) {
        queue.addFirst(tasks);
    }

    /** The next chunk whole, for a worker that takes a chunk at once; {@code null} when empty. */
    List<PoolTask> pollChunk() {
        return queue.pollFirst();
    }

    boolean hasQueued() {
        return !queue.isEmpty();
    }

    /** The next task to start, skipping (and reporting) those whose caller went away. */
    PoolTask next() {
        while (!queue.isEmpty()) {
            List<PoolTask> chunk = queue.pollFirst();
            if (chunk.size() > 1) {
                queue.addFirst(chunk.subList(1, chunk.size()));
            }
            PoolTask t = chunk.getFirst();
            if (skipped(t)) {
                continue;
            }
            if (!t.done) {
                return t;
            }
        }
        return null;
    }

    /** Ends {@code t} without a result if its caller went away; answers whether it did. */
    boolean skipped(PoolTask t) {
        if (t.skip() && !t.done) {
            t.done = true;
            pending--;
            outbox.deliver(t.onSkipped);
            return true;
        }
        return false;
    }

    /** The pool was terminated: every queued task fails with {@code why}, and none is retried from now on. */
    void failAll(Outcome why) {
        retrying = false;
        for (List<PoolTask> chunk : queue) {
            chunk.forEach(t -> complete(t, why));
        }
        queue.clear();
    }

    void complete(PoolTask t, Outcome outcome) {
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
                String kind = f.kind().name().toLowerCase(Locale.ROOT);
                events.poolTaskEnded(kind);
                events.happened(new Event(EventKind.POOL_TASK_FAILED, poolId, spec.name(), spec.labels(),
                        Map.of("task", Long.toString(t.index), "failure", kind, "attempts", Integer.toString(t.attempts),
                                "exit_code", Integer.toString(f.exitCode()), "message", f.message()),
                        Optional.empty(), Optional.empty(), Optional.empty()));
            }
        }
        Instant now = clock.instant();
        Instant started = t.startedAt == null ? now : t.startedAt;
        TaskResult r = new TaskResult(t.index, outcome, t.attempts, t.processId, t.pid, t.agentId, started,
                Duration.between(started, now));
        Consumer<TaskResult> onDone = t.onDone;
        outbox.deliver(() -> onDone.accept(r));
    }

    /** A task's run failed in a way worth running again (or not, if it has had its tries). */
    void retryOrFail(PoolTask t, FailureKind kind, int exitCode, byte[] stderrTail, String message) {
        retryOrFail(t, new Outcome.Failure(kind, exitCode, stderrTail, message));
    }

    void retryOrFail(PoolTask t, Outcome.Failure failure) {
        if (t.done) {
            return;
        }
        if (retrying && t.attempts <= spec.maxRetries()) {
            t.timedOut = false;
            retried++;
            queue.addFirst(List.of(t));
        } else {
            complete(t, failure);
        }
    }

    void workerCrashedIdle() {
        idleCrashes++;
    }

    boolean crashedIdle() {
        return idleCrashes != 0;
    }

    long pending() {
        return pending;
    }

    long succeeded() {
        return succeeded;
    }

    long failed() {
        return failed;
    }

    long retried() {
        return retried;
    }
}
