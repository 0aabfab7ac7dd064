package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.SqliteStateStore;
import dev.forkd.server.store.StateStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Process records kept by one table (one supervisor) and restored by the next on the same store:
 * reconciled with what the agents report when they come back.
 */
@Timeout(60)
class ProcessRestoreTest {

    @TempDir
    Path dir;
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    /** An agent that records what it is asked; its events are given by the test. */
    private static final class FakeAgent implements AgentPort, AgentPool {
        final String id;
        final List<StartCommand> starts = new CopyOnWriteArrayList<>();
        final List<String> signals = new CopyOnWriteArrayList<>();

        FakeAgent(String id) {
            this.id = id;
        }

        @Override
        public String agentId() {
            return id;
        }

        @Override
        public void start(StartCommand command) {
            starts.add(command);
        }

        @Override
        public void signal(String processId, int run, int signal) {
            signals.add(processId + "/" + run + "/" + signal);
        }

        @Override
        public void holdOutput(String processId, int run, boolean hold) {}

        @Override
        public void writeStdin(String processId, int run, byte[] data, boolean close) {}

        @Override
        public void acquire(java.util.function.Consumer<AgentPort> onAgent,
                java.util.function.Consumer<ForkdException> onFailure) {
            onAgent.accept(this);
        }
    }

    private ProcessTable table(AgentPool agents, StateStore store) {
        return new ProcessTable(agents, pgid -> {}, ChildSessions.NONE, timers, Clock.systemUTC(),
                () -> 0.5, 1000, MemoryBudget.unlimited(), ServerEvents.NONE, new ProcessRecords(store));
    }

    private static ProcessSpec spec(String name, RestartSpec restart) {
        return new ProcessSpec(List.of("sleep", "1000"), Map.of("K", "v"), Optional.of("/tmp"), Optional.of(name),
                Map.of("team", "a"), false, false, Optional.empty(), restart, 4096, Duration.ofSeconds(3),
                Optional.empty(), false);
    }

    private static String spawn(ProcessTable table, ProcessSpec spec) {
        List<String> ids = new ArrayList<>();
        table.spawn(spec, s -> ids.add(s.id()), e -> { throw e; });
        return table.get(spec.name().orElseThrow()).id();
    }

    @Test
    void theNextSupervisorFindsRunningChildrenTheirExitsAndLosesWhatNoAgentReports() {
        Path db = dir.resolve("forkd.db");
        FakeAgent a1 = new FakeAgent("a-1");
        String alive;
        String endsMeanwhile;
        String ended;
        String orphaned;
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable before = table(a1, store);
            alive = spawn(before, spec("alive", RestartSpec.NEVER));
            endsMeanwhile = spawn(before, spec("ends", RestartSpec.NEVER));
            ended = spawn(before, spec("ended", RestartSpec.NEVER));
            orphaned = spawn(before, spec("orphaned", new RestartSpec(RestartSpec.Policy.ALWAYS,
                    Duration.ofMillis(1), Duration.ofMillis(1), 5, Duration.ofSeconds(60))));
            before.onStarted(alive, 0, 111);
            before.onStarted(endsMeanwhile, 0, 222);
            before.onStarted(ended, 0, 333);
            before.onStarted(orphaned, 0, 444);
            before.onExited(ended, 0, 3);
        } // the supervisor dies here: what was written is committed

        FakeAgent back = new FakeAgent("a-1");
        FakeAgent fresh = new FakeAgent("a-2");
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable after = table(fresh, store);
            assertEquals(4, after.restore().load());
            assertEquals(Set.of("a-1"), after.restore().awaitedAgents());
            ProcessSnapshot restored = after.get("alive");
            assertInstanceOf(ProcessState.Running.class, restored.state());
            assertEquals(111, restored.pid());
            assertEquals(List.of("sleep", "1000"), restored.spec().argv());
            assertEquals(Map.of("K", "v"), restored.spec().env());
            assertInstanceOf(ProcessState.Exited.class, after.get(ended).state());
            // Before its agent is back, it cannot be signalled: nobody could deliver it.
            ForkdException e = assertThrows(ForkdException.class,
                    () -> after.signal(alive, new ProcessTable.SignalAction.Send(15)));
            assertEquals("NO_AGENT", e.reason());

            // Agent a-1 comes back; "orphaned" is not among its children (it was killed meanwhile).
            assertEquals(2, after.restore().adopt("a-1", back, List.of(
                    new ProcessRestore.AdoptedChild(alive, 0, 111),
                    new ProcessRestore.AdoptedChild(endsMeanwhile, 0, 0),
                    new ProcessRestore.AdoptedChild("p-999", 0, 5))));
            assertTrue(after.onExited(endsMeanwhile, 0, 7), "the held exit applies");
            assertTrue(!after.onExited(endsMeanwhile, 0, 7), "sent again, it changes nothing");
            assertEquals(new ProcessState.Exited(222, 7, ((ProcessState.Exited) after.get(endsMeanwhile).state())
                    .endedAt()), after.get(endsMeanwhile).state());
            after.signal(alive, new ProcessTable.SignalAction.Send(10));
            // p-999 is known to no record (its spawn was never committed): it is killed, not left unseen.
            assertEquals(List.of("p-999/0/9", alive + "/0/10"), back.signals);

            after.restore().finish();
            ProcessState lost = after.get(orphaned).state();
            // Lost, and its restart policy applies: it backs off, then starts again on an agent there is.
            assertTrue(lost instanceof ProcessState.Backoff || lost instanceof ProcessState.Starting
                    || lost instanceof ProcessState.Running, lost.toString());
            // New ids go on after the highest one given: kept, or reported by an agent (p-999).
            String next = spawn(after, spec("new", RestartSpec.NEVER));
            assertEquals("p-1000", next);
        }
    }

    /** Its run starts and exits at once. */
    private static void end(ProcessTable table, String id) {
        table.onStarted(id, 0, 100);
        table.onExited(id, 0, 0);
    }

    /** Ends a spawned process and deletes its record, as {@code forkd rm} does. */
    private static void endAndDelete(ProcessTable table, String id) {
        end(table, id);
        table.delete(id);
    }

    @Test
    void theIdOfADeletedRecordIsNeverGivenAgainAfterARestart() {
        // Seen in the restart chaos run: p-45 was deleted, the next supervisor gave "p-45" to a new
        // spawn, and the agent's replay of the old p-45's start and exit (exit 0) ended the new one.
        Path db = dir.resolve("forkd.db");
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable first = table(new FakeAgent("a-1"), store);
            assertEquals("p-1", spawn(first, spec("one", RestartSpec.NEVER)));
            end(first, "p-1");
            assertEquals("p-2", spawn(first, spec("two", RestartSpec.NEVER)));
            assertEquals("p-3", spawn(first, spec("three", RestartSpec.NEVER)));
            endAndDelete(first, "p-3");
            endAndDelete(first, "p-2");
        }
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable second = table(new FakeAgent("a-1"), store);
            assertEquals(1, second.restore().load());
            assertEquals("p-4", spawn(second, spec("four", RestartSpec.NEVER)));
            endAndDelete(second, "p-4");
            second.delete("p-1"); // a lower one deleted later does not lower the mark
        }
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable third = table(new FakeAgent("a-1"), store);
            assertEquals(0, third.restore().load());
            assertEquals("p-5", spawn(third, spec("five", RestartSpec.NEVER)));
        }
    }

    @Test
    void anIdAReturningAgentReportsIsNeverGivenAgainThoughNoRecordKeptIt() {
        // Seen in the restart chaos run: a supervisor gave p-53 to a spawn and died before keeping
        // its record; the next one gave p-53 again, and the agent's exit of the first p-53 (68),
        // sent again after the next restart, ended the second (which was to exit 54).
        Path db = dir.resolve("forkd.db");
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable first = table(new FakeAgent("a-1"), store);
            assertEquals("p-1", spawn(first, spec("one", RestartSpec.NEVER)));
            first.onStarted("p-1", 0, 100);
        }
        FakeAgent back = new FakeAgent("a-1");
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable second = table(back, store);
            assertEquals(1, second.restore().load());
            // The agent runs p-1, and ran p-2 and p-3, whose spawns were never kept; p-3 has ended.
            second.restore().adopt("a-1", back, List.of(new ProcessRestore.AdoptedChild("p-1", 0, 100),
                    new ProcessRestore.AdoptedChild("p-2", 0, 200), new ProcessRestore.AdoptedChild("p-3", 0, 0)));
            second.restore().finish();
            assertEquals("p-4", spawn(second, spec("four", RestartSpec.NEVER)));
            // Ids that are not this table's change nothing.
            second.restore().adopt("a-1", back, List.of(new ProcessRestore.AdoptedChild("q-77", 0, 1),
                    new ProcessRestore.AdoptedChild("p-", 0, 1), new ProcessRestore.AdoptedChild("p-99999999999999999999", 0, 1),
                    new ProcessRestore.AdoptedChild("p-" + Long.MAX_VALUE, 0, 1)));
            assertEquals("p-5", spawn(second, spec("five", RestartSpec.NEVER)));
        }
    }

    @Test
    void theExitOfAnotherChildUnderTheSameIdAndRunIsNotApplied() {
        Path db = dir.resolve("forkd.db");
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable table = table(new FakeAgent("a-1"), store);
            String id = spawn(table, spec("one", RestartSpec.NEVER));
            table.onStarted(id, 0, 13851);
            assertFalse(table.onExited(id, 0, 13700, 68, false), "an exit of pid 13700 is not this run's");
            assertInstanceOf(ProcessState.Running.class, table.get(id).state());
            assertTrue(table.onExited(id, 0, 13851, 54, false));
            assertEquals(54, ((ProcessState.Exited) table.get(id).state()).exitCode());
        }
    }

    @Test
    void anOomKillIsKeptWithTheExitAndSaidAfterARestart() {
        Path db = dir.resolve("forkd.db");
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable before = table(new FakeAgent("a-1"), store);
            String oom = spawn(before, spec("oom", RestartSpec.NEVER));
            String killed = spawn(before, spec("killed", RestartSpec.NEVER));
            before.onStarted(oom, 0, 100);
            before.onStarted(killed, 0, 101);
            before.onExited(oom, 0, 100, -9, true);
            before.onExited(killed, 0, 101, -9, false);
            assertTrue(before.get(oom).oomKilled());
        }
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            ProcessTable after = table(new FakeAgent("a-1"), store);
            assertEquals(2, after.restore().load());
            assertTrue(after.get("oom").oomKilled(), "the OOM kill was forgotten with the server");
            assertEquals(-9, after.get("oom").exitCode());
            assertTrue(!after.get("killed").oomKilled(), "a plain SIGKILL is no OOM kill");
        }
    }

    @Test
    void aSpawnIsAnsweredOnlyOnceItsRecordIsCommitted() throws Exception {
        // Otherwise a crash could forget an id a client was given, and the next supervisor would give
        // it to another process (found by the restart chaos test: p-72 came back with another's exit).
        java.util.concurrent.CompletableFuture<Void> gate = new java.util.concurrent.CompletableFuture<>();
        try (SqliteStateStore real = SqliteStateStore.open(dir.resolve("forkd.db"))) {
            FakeAgent agent = new FakeAgent("a-1");
            ProcessTable table = table(agent, new dev.forkd.server.store.GatedStore(real, gate));
            java.util.concurrent.CompletableFuture<ProcessSnapshot> answered = new java.util.concurrent.CompletableFuture<>();
            table.spawn(spec("gated", RestartSpec.NEVER), answered::complete, answered::completeExceptionally);
            String id = table.get("gated").id();
            table.onStarted(id, 0, 4242);
            assertThrows(java.util.concurrent.TimeoutException.class,
                    () -> answered.get(300, java.util.concurrent.TimeUnit.MILLISECONDS),
                    "not answered before its record is committed");
            gate.complete(null);
            assertEquals(4242, answered.get(30, java.util.concurrent.TimeUnit.SECONDS).pid());
        }
    }
}
