package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue 10, item 5: max_processes holds however many spawns arrive at once. */
@Timeout(60)
class ProcessTableAdmissionTest {

    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    @Test
    void concurrentSpawnsNeverOvershootMaxProcesses() throws Exception {
        int max = 10;
        int threads = 8;
        int perThread = 200;
        // An agent pool that never answers: every admitted spawn stays STARTING, holding its place.
        ProcessTable table = new ProcessTable((onAgent, onFailure) -> {}, pgid -> {},
                ChildSessions.NONE, timers, Clock.systemUTC(), () -> 0.5, max);
        ProcessSpec spec = new ProcessSpec(List.of("true"), Map.of(), Optional.empty(), Optional.empty(), Map.of(),
                false, false, Optional.empty(), RestartSpec.NEVER, 1024, Duration.ofSeconds(1), Optional.empty(), false);
        AtomicInteger refused = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        var pool = Executors.newFixedThreadPool(threads);
        try {
            for (int t = 0; t < threads; t++) {
                pool.execute(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < perThread; i++) {
                            table.spawn(spec, s -> {}, e -> refused.incrementAndGet());
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        done.countDown();
                    }
                });
            }
            go.countDown();
            done.await(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(max, table.list(s -> true, 0, 100_000).size(), "records in the table");
        assertEquals(threads * perThread - max, refused.get(), "spawns refused");
    }

    @Test
    void aSpawnRefusedForMemoryLeavesItsPlaceFree() {
        // A budget too small for a new process's output: every spawn is refused for it.
        dev.forkd.server.memory.MemoryBudget memory = new dev.forkd.server.memory.MemoryBudget(1024);
        ProcessTable table = new ProcessTable((onAgent, onFailure) -> {}, pgid -> {},
                ChildSessions.NONE, timers, Clock.systemUTC(), () -> 0.5, 2, memory);
        ProcessSpec spec = new ProcessSpec(List.of("true"), Map.of(), Optional.empty(), Optional.empty(), Map.of(),
                false, false, Optional.empty(), RestartSpec.NEVER, 1024, Duration.ofSeconds(1), Optional.empty(), false);
        List<String> reasons = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            table.spawn(spec, s -> {}, e -> reasons.add(e.reason()));
        }
        // Each refusal is the budget's, never PROCESS_TABLE_FULL: a refused spawn took no place.
        assertEquals(List.of("MEMORY_BUDGET_EXHAUSTED", "MEMORY_BUDGET_EXHAUSTED", "MEMORY_BUDGET_EXHAUSTED"), reasons);
    }
}
