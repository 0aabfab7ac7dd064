package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.SqliteStateStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who is called on what: a plain watcher on every output and state change; one with a callback for
 * output gets output there, on the thread that reported it, and state changes on the other.
 */
@Timeout(60)
class ProcessWatchTest {

    @TempDir
    Path dir;
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void outputGoesToTheOutputCallbackOnTheReportingThreadAndStateChangesToTheOther() throws Exception {
        try (SqliteStateStore store = SqliteStateStore.open(dir.resolve("forkd.db"))) {
            ProcessTable table = new ProcessTable(new SilentAgent("a-1"), pgid -> {}, ChildSessions.NONE, timers,
                    Clock.systemUTC(), () -> 0.5, 1000, MemoryBudget.unlimited(), ServerEvents.NONE,
                    new ProcessRecords(store));
            ProcessSpec spec = new ProcessSpec(List.of("sleep", "1000"), Map.of(), Optional.empty(),
                    Optional.of("talker"), Map.of(), false, false, Optional.empty(), RestartSpec.NEVER, 4096,
                    Duration.ofSeconds(3), Optional.empty(), false);
            table.spawn(spec, s -> { }, e -> { throw e; });
            String id = table.get("talker").id();
            table.onStarted(id, 0, 111);

            List<String> calls = new CopyOnWriteArrayList<>();
            Thread reporter = Thread.currentThread();
            ProcessTable.WatchHandle split = table.watch(id, () -> calls.add("split: state"),
                    () -> calls.add("split: output" + (Thread.currentThread() == reporter ? " here" : " elsewhere")));
            ProcessTable.WatchHandle plain = table.watch(id, () -> calls.add("plain"));

            table.onOutput(id, 0, OutputLog.Stream.STDOUT, text("answer\n"), 0);
            assertEquals(List.of("split: output here", "plain"), calls);

            calls.clear();
            table.onExited(id, 0, 0);
            assertEquals(List.of("split: state", "plain"), calls, "an exit is a state change, not output");

            calls.clear();
            split.close();
            plain.close();
            table.onOutput(id, 0, OutputLog.Stream.STDOUT, text("late\n"), 7);
            assertEquals(List.of(), calls, "a closed watch is called no more");
        }
    }
}
