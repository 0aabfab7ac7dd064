package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.SqliteStateStore;
import dev.forkd.server.store.StateStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A supervisor dies with output still queued for its files: the next one, told by the agent how far
 * the run's output had come, shows those bytes as lost instead of running the next output on from
 * the last kept byte. The files and the store are real; the writer is held by the test so the loss
 * does not depend on timing.
 */
@Timeout(60)
class LostOutputTest {

    @TempDir
    Path dir;
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    private ProcessTable table(SilentAgent agent, StateStore store, OutputFiles files) {
        return new ProcessTable(agent, pgid -> {}, ChildSessions.NONE, timers, Clock.systemUTC(), () -> 0.5, 1000,
                MemoryBudget.unlimited(), ServerEvents.NONE, new ProcessRecords(store, files));
    }

    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(OutputLog.Read read) {
        StringBuilder out = new StringBuilder();
        for (OutputLog.Chunk c : assertInstanceOf(OutputLog.Read.Data.class, read).chunks()) {
            out.append(new String(c.bytes(), StandardCharsets.UTF_8));
        }
        return out.toString();
    }

    @Test
    void outputQueuedWhenTheSupervisorDiedIsShownAsLost() throws Exception {
        Path db = dir.resolve("forkd.db");
        Semaphore writes = new Semaphore(1); // the first chunk reaches the disk, the second stays queued
        OutputFiles dying = OutputFiles.in(dir, MemoryBudget.unlimited(), System::currentTimeMillis,
                writes::acquireUninterruptibly);
        String id;
        try {
            try (SqliteStateStore store = SqliteStateStore.open(db)) {
                ProcessTable before = table(new SilentAgent("a-1"), store, dying);
                ProcessSpec spec = new ProcessSpec(List.of("sleep", "1000"), Map.of(), Optional.empty(),
                        Optional.of("talker"), Map.of(), false, false, Optional.empty(), RestartSpec.NEVER, 4096,
                        Duration.ofSeconds(3), Optional.empty(), false);
                before.spawn(spec, s -> { }, e -> { throw e; });
                id = before.get("talker").id();
                before.onStarted(id, 0, 111);
                before.onOutput(id, 0, OutputLog.Stream.STDOUT, text("kept\n"), 0);
                dying.flushed().get(30, TimeUnit.SECONDS);
                before.onOutput(id, 0, OutputLog.Stream.STDOUT, text("queued\n"), 5);
                assertEquals(12, before.get(id).outputEnd(), "the dying supervisor had it in memory");
            } // the supervisor dies here: "queued\n" never reached its file

            try (SqliteStateStore store = SqliteStateStore.open(db);
                    OutputFiles files = OutputFiles.in(dir, MemoryBudget.unlimited(), System::currentTimeMillis)) {
                SilentAgent back = new SilentAgent("a-1");
                ProcessTable after = table(back, store, files);
                after.restore().load();
                assertEquals(5, after.get(id).outputEnd(), "the restored log ends with the last kept chunk");
                after.restore().adopt("a-1", back, List.of(new ProcessRestore.AdoptedChild(id, 0, 111)));
                // The agent goes on where the run's output had come to: 12 bytes sent before this chunk.
                after.onOutput(id, 0, OutputLog.Stream.STDOUT, text("after\n"), 12);

                ProcessTable.WatchHandle watch = after.watch(id, () -> { });
                assertEquals("kept\n", text(watch.read(0, 1024)), "a read stops where the lost bytes begin");
                assertEquals(new OutputLog.Read.Lost(5, 12), watch.read(5, 1024));
                assertEquals("after\n", text(watch.read(12, 1024)));
                assertEquals(new OutputLog.Read.Lost(7, 12), watch.read(7, 1024), "from within the hole too");
                assertEquals(18, after.get(id).outputEnd());
                watch.close();

                // An agent that reports no offset (an older one) or one the log already has changes nothing.
                after.onOutput(id, 0, OutputLog.Stream.STDOUT, text("x"), 18);
                after.onOutput(id, 0, OutputLog.Stream.STDOUT, text("y"), -1);
                assertEquals(20, after.get(id).outputEnd());
            }
        } finally {
            writes.release(1_000); // the dead supervisor's writer may finish now, and its thread end
            dying.close();
        }
    }
}
