package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.forkd.server.error.ForkdException;
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

/** Restarts the table refuses: nothing changes, and nothing is sent to the agent. */
@Timeout(60)
class ProcessRestartRefusalTest {

    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
    private final List<String> sent = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    private final AgentPort agent = new AgentPort() {
        @Override
        public String agentId() {
            return "a-1";
        }

        @Override
        public void start(StartCommand command) {
            sent.add("start " + command.processId() + "/" + command.run());
        }

        @Override
        public void signal(String processId, int run, int signal) {
            sent.add("signal " + processId + "/" + run + "/" + signal);
        }

        @Override
        public void holdOutput(String processId, int run, boolean hold) {}

        @Override
        public void writeStdin(String processId, int run, byte[] data, boolean close) {}
    };

    private final java.util.Set<String> openSessions = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private ProcessTable table() {
        AgentPool pool = (onAgent, onFailure) -> onAgent.accept(agent);
        ChildSessions sessions = new ChildSessions() {
            @Override
            public ChildSessions.ChildSession open(String processId) {
                return new ChildSessions.ChildSession("", Map.of());
            }

            @Override
            public void end(String sessionId) {}

            @Override
            public boolean isOpen(String sessionId) {
                return openSessions.contains(sessionId);
            }
        };
        return new ProcessTable(pool, pgid -> {}, sessions, timers, Clock.systemUTC(), () -> 0.5, 100);
    }

    private static ProcessSpec spec(Map<String, String> labels) {
        return new ProcessSpec(List.of("sleep", "1000"), Map.of(), Optional.empty(), Optional.empty(), labels,
                false, false, Optional.empty(), RestartSpec.NEVER, 4096, Duration.ofSeconds(3), Optional.empty(), false);
    }

    @Test
    void aPoolsWorkerIsNotRestartedAndNothingChanges() {
        ProcessTable table = table();
        table.spawn(spec(Map.of("forkd.pool", "pool-1")), s -> {}, e -> { throw e; });
        table.onStarted("p-1", 0, 4242);
        ProcessSnapshot before = table.get("p-1");
        sent.clear();
        ForkdException e = assertThrows(ForkdException.class,
                () -> table.restart("p-1", Optional.empty(), s -> {}, x -> {}));
        assertEquals("POOL_WORKER_NOT_RESTARTABLE", e.reason());
        assertEquals(before, table.get("p-1"));
        assertEquals(List.of(), sent);
    }

    @Test
    void aDaemonWhoseSessionEndedIsNotStartedAgain() {
        ProcessTable table = table();
        openSessions.add("s-1");
        ProcessSpec daemon = new ProcessSpec(List.of("true"), Map.of(), Optional.empty(), Optional.empty(), Map.of(),
                false, true, Optional.empty(), RestartSpec.NEVER, 4096, Duration.ofSeconds(3), Optional.of("s-1"), false);
        table.spawn(daemon, s -> {}, e -> { throw e; });
        table.onStarted("p-1", 0, 4242);
        table.onExited("p-1", 0, 0);
        openSessions.remove("s-1");
        ProcessSnapshot before = table.get("p-1");
        sent.clear();
        ForkdException e = assertThrows(ForkdException.class,
                () -> table.restart("p-1", Optional.empty(), s -> {}, x -> {}));
        assertInstanceOf(ForkdException.NotFound.class, e);
        assertEquals(before, table.get("p-1"));
        assertEquals(List.of(), sent);
    }

    @Test
    void anUnknownProcessIsNotFound() {
        ForkdException e = assertThrows(ForkdException.class,
                () -> table().restart("p-9", Optional.empty(), s -> {}, x -> {}));
        assertInstanceOf(ForkdException.NotFound.class, e);
    }

    @Test
    void aProcessStillBeingSpawnedIsRefused() {
        ProcessTable table = table();
        table.spawn(spec(Map.of()), s -> {}, e -> { throw e; }); // not started yet: its spawn waits
        ProcessSnapshot before = table.get("p-1");
        ForkdException e = assertThrows(ForkdException.class,
                () -> table.restart("p-1", Optional.empty(), s -> {}, x -> {}));
        assertEquals("PROCESS_NOT_RUNNING", e.reason());
        assertEquals(before, table.get("p-1"));
    }
}
