package dev.forkd.server.pool;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.pool.PoolCodec.ResultRecord;
import dev.forkd.server.pool.TaskResult.Outcome;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import dev.forkd.server.time.Timeout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * One pool's ApplyAsync tasks, from submission until their results are forgotten: what they hold of
 * the memory budget, who waits for them, and their rows in the state store.
 *
 * <p>Kept in the store (README "Restarts and durability"): a task's input under
 * {@code pool-task/<pool id>} from submission until its result is in, then its result under
 * {@code pool-result/<pool id>} until ForgetResult or the pool's end; the two change in one write.
 *
 * <p>Guarded by its own monitor, taken inside the pool's and never the other way round.
 */
final class AsyncResults {

    static final int MAX_ASYNC_RESULTS = 100_000;

    private final String poolId;
    private final MemoryBudget memory;
    private final ScheduledExecutorService timers;
    private final Outbox outbox;
    private final StateStore store;
    private final Map<Long, Slot> slots = new HashMap<>();
    /** Budget bytes held for inputs and results; given back when the pool is forgotten. */
    private long held;
    private boolean forgotten;
    /** The server is stopping: what the stop does to running tasks is not kept (they run again after). */
    private volatile boolean frozen;

    AsyncResults(String poolId, MemoryBudget memory, ScheduledExecutorService timers, Outbox outbox,
            StateStore store) {
        this.poolId = poolId;
        this.memory = memory;
        this.timers = timers;
        this.outbox = outbox;
        this.store = store;
    }

    static String taskKind(String poolId) {
        return "pool-task/" + poolId;
    }

    static String resultKind(String poolId) {
        return "pool-result/" + poolId;
    }

    /** Keys load in task order. */
    static String key(long n) {
        return String.format("%019d", n);
    }

    /** Takes task number {@code n}: its input is held of the budget until its result is in. */
    synchronized Slot add(long n, TaskInput input) {
        if (slots.size() >= MAX_ASYNC_RESULTS) {
            throw new ForkdException.ResourceExhausted("POOL_RESULTS_FULL", "pool \"" + poolId + "\" holds "
                    + slots.size() + " kept results (max " + MAX_ASYNC_RESULTS + "); call ForgetResult");
        }
        long inputBytes = input.heldBytes();
        memory.reserve(inputBytes, "the input of an ApplyAsync task of pool \"" + poolId + "\"");
        held += inputBytes;
        Slot slot = new Slot(n, inputBytes);
        slots.put(n, slot);
        return slot;
    }

    /** Keeps a task's input; completes once it is committed, so the task is acknowledged only then. */
    CompletableFuture<Void> save(Slot slot, TaskInput input) {
        if (!store.keeps()) {
            return CompletableFuture.completedFuture(null);
        }
        if (frozen) {
            return CompletableFuture.failedFuture(new StoreException("the server is stopping"));
        }
        return store.put(taskKind(poolId), key(slot.index), PoolCodec.input(input));
    }

    /** A task that was never acknowledged (its pool stopped taking tasks, or the store failed): as if never asked. */
    synchronized void drop(Slot slot) {
        if (slots.remove(slot.index, slot) && !forgotten) {
            memory.release(slot.inputBytes);
            held -= slot.inputBytes;
            if (keeps()) {
                store.delete(taskKind(poolId), key(slot.index));
            }
        }
    }

    /** A task kept over a restart, to run again. */
    record Unanswered(Slot slot, TaskInput input) {}

    /**
     * Restores the kept rows (at start-up, before anyone can ask): results are there for GetResult,
     * charged to the budget as they were live; answers the tasks to run again, in order.
     */
    synchronized List<Unanswered> restore(List<StoreRow> tasks, List<StoreRow> results) {
        for (StoreRow row : results) {
            ResultRecord rec = PoolCodec.result(row.value());
            long n = Long.parseLong(row.key());
            Slot slot = new Slot(n, 0);
            slots.put(n, slot);
            slot.keep(rec.result(), rec.refusedBytes());
        }
        List<Unanswered> again = new ArrayList<>();
        for (StoreRow row : tasks) {
            long n = Long.parseLong(row.key());
            if (slots.containsKey(n)) {
                continue; // its result was kept in the same write that dropped it: cannot happen
            }
            TaskInput input = PoolCodec.input(row.value());
            long inputBytes = input.heldBytes();
            Slot slot = new Slot(n, 0);
            slots.put(n, slot);
            if (memory.tryReserve(inputBytes)) {
                held += inputBytes;
                slot.inputBytes = inputBytes;
                again.add(new Unanswered(slot, input));
            } else {
                slot.refusal = memory.exhausted(inputBytes, "the input of task t-" + n + " of pool \"" + poolId
                        + "\", kept over a restart");
                slot.result = new TaskResult(n, new Outcome.Output(new byte[0]), 0, "", 0, "",
                        java.time.Instant.EPOCH, Duration.ZERO);
            }
        }
        return again;
    }

    /** The server is stopping: from now on nothing of this pool's tasks is written. */
    void freeze() {
        frozen = true;
    }

    private boolean keeps() {
        return store.keeps() && !frozen;
    }

    /** The highest task number known, so that new tasks never reuse one. */
    synchronized long highest() {
        return slots.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /**
     * Calls {@code onDone(result, ready)} once: with the result when it is ready, or with
     * {@code ready = false} when {@code timeout} passes first.
     */
    ProcessTable.Cancellable get(String taskId, Optional<Duration> timeout,
            BiConsumer<Optional<TaskResult>, Boolean> onDone, java.util.function.Consumer<ForkdException> onRefused) {
        Slot slot = find(taskId);
        return slot.await(timeout, (r, ok) -> {
            if (ok && slot.refusal != null) {
                onRefused.accept(slot.refusal); // the budget could not keep it: said each time asked
                return;
            }
            onDone.accept(Optional.ofNullable(r), ok);
        });
    }

    /** Forgets a finished task's result; FAILED_PRECONDITION (TASK_NOT_DONE) while it runs. */
    synchronized void forget(String taskId) {
        Slot slot = find(taskId);
        if (slot.result == null) {
            throw new ForkdException.FailedPrecondition("TASK_NOT_DONE", "task \"" + taskId + "\" of pool \""
                    + poolId + "\" has not finished; forget its result once GetResult has it");
        }
        if (slots.remove(slot.index, slot) && !forgotten) {
            memory.release(slot.resultBytes);
            held -= slot.resultBytes;
            if (keeps()) {
                store.delete(resultKind(poolId), key(slot.index));
            }
        }
    }

    /**
     * The pool is forgotten: the results nobody took are dropped, with their bytes and rows
     * ({@code also} is written in the same transaction). Results of tasks still ending after this
     * are not held.
     */
    synchronized void forgetAll(List<StoreWrite> also) {
        if (!forgotten) {
            forgotten = true;
            memory.release(held);
            held = 0;
            if (keeps()) {
                List<StoreWrite> writes = new ArrayList<>(also);
                writes.add(new StoreWrite.DeleteKind(taskKind(poolId)));
                writes.add(new StoreWrite.DeleteKind(resultKind(poolId)));
                store.write(writes);
            }
        }
    }

    private synchronized Slot find(String taskId) {
        long n = -1;
        if (taskId.startsWith("t-")) {
            try {
                n = Long.parseLong(taskId.substring(2));
            } catch (NumberFormatException e) {
                n = -1;
            }
        }
        Slot slot = slots.get(n);
        if (slot == null) {
            throw new ForkdException.NotFound("task", taskId);
        }
        return slot;
    }

    /** The result of one ApplyAsync task, and who waits for it. */
    final class Slot {
        final long index;
        private long inputBytes;
        private long resultBytes;
        /** The bytes of a result the budget could not hold; -1 when it holds it. */
        private long refusedBytes = -1;
        /** Set when the memory budget could not hold the result: GetResult answers this instead. */
        private ForkdException refusal;
        private TaskResult result;
        private final List<BiConsumer<TaskResult, Boolean>> waiters = new ArrayList<>();

        Slot(long index, long inputBytes) {
            this.index = index;
            this.inputBytes = inputBytes;
        }

        /** Holds a result of the budget, or records that it could not; under the monitor. */
        private TaskResult keep(TaskResult r, long alreadyRefused) {
            long bytes = alreadyRefused >= 0 ? alreadyRefused : r.heldBytes();
            if (alreadyRefused < 0 && memory.tryReserve(bytes)) {
                resultBytes = bytes;
                held += bytes;
            } else {
                // Refused rather than grown past the budget; the reader is told, not left waiting.
                refusal = memory.exhausted(bytes, "the result of task t-" + index + " of pool \"" + poolId + "\"");
                // Its bytes are not kept either: the reader gets the refusal, never this.
                r = new TaskResult(r.index(), new Outcome.Output(new byte[0]), r.attempts(), r.processId(),
                        r.pid(), r.agentId(), r.startedAt(), r.runtime());
                resultBytes = 0;
                this.refusedBytes = bytes;
            }
            result = r;
            return r;
        }

        void complete(TaskResult r) {
            List<BiConsumer<TaskResult, Boolean>> w;
            synchronized (AsyncResults.this) {
                if (!forgotten) {
                    memory.release(inputBytes);
                    held -= inputBytes;
                    r = keep(r, -1);
                    if (keeps() && slots.get(index) == this) {
                        store.write(List.of(new StoreWrite.Delete(taskKind(poolId), key(index)),
                                new StoreWrite.Put(resultKind(poolId), key(index),
                                        PoolCodec.result(new ResultRecord(r, refusedBytes)))));
                    }
                } else {
                    result = r;
                }
                w = new ArrayList<>(waiters);
                waiters.clear();
            }
            // Every waiter gets it; it stays for later GetResults until ForgetResult.
            for (BiConsumer<TaskResult, Boolean> waiter : w) {
                waiter.accept(result, true);
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
            synchronized (AsyncResults.this) {
                now = result;
                if (now == null) {
                    if (timeout.isPresent() && timeout.get().isZero()) {
                        outbox.deliver(() -> once.accept(null, false));
                        return () -> {};
                    }
                    // The timer first, so that a failure leaves no waiter behind; its expiry needs
                    // this monitor, so it cannot run before the waiter is added.
                    timer = timeout.flatMap(t -> Timeout.schedule(timers, t, () -> {
                        synchronized (AsyncResults.this) {
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
                synchronized (AsyncResults.this) {
                    waiters.remove(once);
                }
            };
        }
    }
}
