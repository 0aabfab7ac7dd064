package dev.forkd.server.pool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.limits.ResourceLimits;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.pool.TaskResult.FailureKind;
import dev.forkd.server.pool.TaskResult.Outcome;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.process.RestartSpec;
import dev.forkd.server.store.SqliteStateStore;
import dev.forkd.server.store.StateDirectory;
import dev.forkd.server.store.StoreWrite;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pool's ApplyAsync tasks and results in a real SQLite store; reopening it is a restart. */
class AsyncResultsStoreTest {

    @TempDir
    Path dir;

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    private AsyncResults results(MemoryBudget memory, SqliteStateStore store) {
        return new AsyncResults("pool-3", memory, timers, new Outbox(Runnable::run), store);
    }

    private static TaskInput in(String s) {
        return TaskInput.of(s.getBytes(StandardCharsets.UTF_8));
    }

    private static TaskResult ok(long n, String out) {
        return new TaskResult(n, new Outcome.Output(out.getBytes(StandardCharsets.UTF_8), new byte[] {'!'}), 1,
                "p-" + n, 100 + (int) n,
                "a-1", Instant.ofEpochSecond(1_700_000_000L, 5), Duration.ofMillis(7));
    }

    /** What GetResult answers now: the result, "not ready", or the refusal. */
    private static Object now(AsyncResults r, String task) {
        AtomicReference<Object> got = new AtomicReference<>();
        r.get(task, Optional.of(Duration.ZERO), (res, ready) -> got.set(ready ? res.orElseThrow() : "not ready"),
                got::set);
        return got.get();
    }

    @Test
    void resultsNotForgottenAndTasksNotAnsweredComeBackAfterAReopen() throws Exception {
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            AsyncResults r = results(MemoryBudget.unlimited(), store);
            for (int n = 1; n <= 4; n++) {
                AsyncResults.Slot slot = r.add(n, in("item " + n));
                r.save(slot, in("item " + n)).get(30, TimeUnit.SECONDS);
                if (n <= 3) {
                    slot.complete(ok(n, "out " + n));
                }
            }
            r.forget("t-1"); // collected
        }
        MemoryBudget memory = new MemoryBudget(1 << 20);
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            AsyncResults r = results(memory, store);
            List<AsyncResults.Unanswered> again = r.restore(store.load(AsyncResults.taskKind("pool-3")),
                    store.load(AsyncResults.resultKind("pool-3")));
            assertEquals(List.of(4L), again.stream().map(u -> u.slot().index).toList());
            assertEquals("item 4", new String(again.getFirst().input().item(), StandardCharsets.UTF_8));
            assertEquals(4, r.highest());
            assertThrows(ForkdException.NotFound.class, () -> now(r, "t-1"));
            TaskResult two = (TaskResult) now(r, "t-2");
            assertArrayEquals("out 2".getBytes(StandardCharsets.UTF_8), ((Outcome.Output) two.outcome()).data());
            assertEquals(ok(2, "x").startedAt(), two.startedAt());
            assertEquals("p-2", two.processId());
            assertArrayEquals(new byte[] {'!'}, ((Outcome.Output) two.outcome()).stderr());
            assertEquals("not ready", now(r, "t-4"));
            // Counted against the budget as live: two results of 5 + 1 bytes and one input of 6.
            assertEquals(6 + 6 + 6, memory.used());
            again.getFirst().slot().complete(ok(4, "out 4"));
            assertEquals(6 + 6 + 6, memory.used());
            r.forget("t-2");
        }
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            assertEquals(List.of(), store.load(AsyncResults.taskKind("pool-3")));
            assertEquals(List.of("0000000000000000003", "0000000000000000004"),
                    store.load(AsyncResults.resultKind("pool-3")).stream().map(row -> row.key()).toList());
            AsyncResults r = results(MemoryBudget.unlimited(), store);
            r.restore(List.of(), store.load(AsyncResults.resultKind("pool-3")));
            r.forgetAll(List.of(new StoreWrite.Delete(Pool.KIND, AsyncResults.key(3))));
        }
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            assertEquals(List.of(), store.kinds("pool-"));
        }
    }

    @Test
    void aKeptResultTheBudgetCannotHoldIsRefusedWhenAsked() throws Exception {
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            AsyncResults r = results(MemoryBudget.unlimited(), store);
            AsyncResults.Slot slot = r.add(1, in("i"));
            r.save(slot, in("i")).get(30, TimeUnit.SECONDS);
            slot.complete(ok(1, "x".repeat(1000)));
        }
        MemoryBudget small = new MemoryBudget(100);
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            AsyncResults r = results(small, store);
            r.restore(List.of(), store.load(AsyncResults.resultKind("pool-3")));
            Object got = now(r, "t-1");
            assertInstanceOf(ForkdException.ResourceExhausted.class, got);
            assertEquals(MemoryBudget.REASON, ((ForkdException) got).reason());
            assertEquals(0, small.used());
        }
    }

    @Test
    void aTaskIsKeptOnlyOnceItsRowIsCommittedAndNotAfterTheServerBeginsToStop() throws Exception {
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            AsyncResults r = results(MemoryBudget.unlimited(), store);
            AsyncResults.Slot running = r.add(1, in("a"));
            r.save(running, in("a")).get(30, TimeUnit.SECONDS);
            r.freeze();
            AsyncResults.Slot late = r.add(2, in("b"));
            CompletableFuture<Void> refused = r.save(late, in("b"));
            assertTrue(refused.isCompletedExceptionally());
            r.drop(late);
            // The stop kills its worker: that failure is not what the task answered.
            running.complete(new TaskResult(1, new Outcome.Failure(FailureKind.WORKER_DIED, -15, new byte[0],
                    "was killed by signal 15"), 1, "p-1", 1, "a-1", Instant.EPOCH, Duration.ZERO));
        }
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            assertEquals(List.of(AsyncResults.key(1)), store.load(AsyncResults.taskKind("pool-3")).stream()
                    .map(row -> row.key()).toList());
            assertEquals(List.of(), store.load(AsyncResults.resultKind("pool-3")));
        }
    }

    @Test
    void aPoolDefinitionReadsBackAsWritten() {
        ResourceLimits limits = new ResourceLimits(OptionalLong.of(64), OptionalLong.empty(), OptionalLong.of(10),
                OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(1 << 30), OptionalDouble.of(0.5),
                OptionalLong.of(32));
        ProcessSpec worker = new ProcessSpec(List.of("sh", "-c", "echo {}", "é".repeat(40_000)),
                Map.of("PATH", "/bin", "X", ""), Optional.of("/tmp"), Optional.empty(), Map.of(), false, false,
                Optional.empty(), RestartSpec.NEVER, 4096, Duration.ofSeconds(1), Optional.empty(), false, limits);
        PoolSpec spec = new PoolSpec(Optional.of("p"), 3, PoolSpec.Kind.PERSISTENT, PoolSpec.Framing.LENGTH_PREFIXED,
                false, worker, 7, List.of("init", "--x"), Optional.of(Duration.ofMillis(1500)), 2, true,
                Map.of("team", "a"), false);
        var rec = new PoolCodec.PoolRecord("pool-9", spec, Pool.Phase.CLOSING, Instant.ofEpochSecond(5, 6));
        var back = PoolCodec.pool(PoolCodec.pool(rec));
        assertEquals(rec, back);
        byte[] later = PoolCodec.pool(rec);
        later[0] = 2;
        assertThrows(dev.forkd.server.store.StoreException.class, () -> PoolCodec.pool(later));
    }
    /** A store whose every write fails (a full disk): a task it cannot keep leaves nothing behind. */
    private static final class FullDisk implements dev.forkd.server.store.StateStore {
        @Override
        public boolean keeps() {
            return true;
        }

        @Override
        public CompletableFuture<Void> write(List<StoreWrite> writes) {
            return CompletableFuture.failedFuture(new dev.forkd.server.store.StoreException("disk full"));
        }

        @Override
        public List<dev.forkd.server.store.StoreRow> load(String kind) {
            return List.of();
        }

        @Override
        public List<String> kinds(String prefix) {
            return List.of();
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aTaskTheStoreCannotKeepIsDroppedWithItsBudget() {
        MemoryBudget memory = new MemoryBudget(1 << 20);
        FullDisk disk = new FullDisk();
        AsyncResults r = new AsyncResults("pool-3", memory, timers, new Outbox(Runnable::run), disk);
        AsyncResults.Slot slot = r.add(1, in("twelve bytes"));
        assertEquals(12, memory.used());
        assertTrue(r.save(slot, in("twelve bytes")).isCompletedExceptionally());
        r.drop(slot);
        assertEquals(0, memory.used());
        assertThrows(ForkdException.NotFound.class, () -> now(r, "t-1"));
    }
}
