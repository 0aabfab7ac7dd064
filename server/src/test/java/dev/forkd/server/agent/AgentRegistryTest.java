package dev.forkd.server.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.AgentPort;
import dev.forkd.agent.v1.SupervisorMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Slots, waiters, admission and the command bound, with fake agent streams. */
class AgentRegistryTest {

    private final ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1);
    private final AgentCredentials credentials = new AgentCredentials();
    private final List<String> lost = new CopyOnWriteArrayList<>();
    private final AgentRegistry registry = new AgentRegistry(timers, Duration.ofMinutes(5),
            (id, cause) -> lost.add(id), credentials,
            new AgentLiveness(AgentLiveness.Settings.DEFAULT, System::nanoTime));

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    /** An agent stream that takes commands while {@code ready}. */
    private static final class FakeStream implements AgentLink.Outlet {
        final AtomicBoolean ready = new AtomicBoolean(true);
        final List<SupervisorMessage> sent = new CopyOnWriteArrayList<>();

        @Override
        public boolean isReady() {
            return ready.get();
        }

        @Override
        public void send(SupervisorMessage message) {
            sent.add(message);
        }
    }

    private final List<String> refusedStarts = new CopyOnWriteArrayList<>();
    private final List<String> refusedStdin = new CopyOnWriteArrayList<>();

    private AgentLink.Refusals refusals() {
        return new AgentLink.Refusals() {
            @Override
            public void start(AgentPort.StartCommand command, String why) {
                refusedStarts.add(why);
            }

            @Override
            public void stdin(String processId, int run, String why) {
                refusedStdin.add(processId + ": " + why);
            }
        };
    }

    private AgentLink admitted(String id, int capacity, FakeStream stream) {
        credentials.expect(id, 100, "secret-" + id);
        AgentLink link = new AgentLink(id, 100, capacity, stream, refusals());
        registry.register(link, "secret-" + id);
        return link;
    }

    private static AgentPort.StartCommand command(String id) {
        return new AgentPort.StartCommand(id, 0, List.of("true"), Map.of(), Optional.empty(), false);
    }

    /** Acquires and starts at once, as the process table does; records which agent it got. */
    private void startOne(String processId, List<String> got) {
        registry.acquire(port -> {
            got.add(port.agentId());
            port.start(command(processId));
        }, e -> got.add("failed: " + e.getMessage()));
    }

    @Test
    void capacityIsReservedWhenTheAgentIsPickedSoItIsNeverOvershot() {
        AgentLink link = admitted("a-1", 1, new FakeStream());
        List<String> got = new ArrayList<>();
        // The first start has not sent its command yet when the second asks: before, both got
        // the agent (the count rose only in start).
        registry.acquire(first -> {
            got.add(first.agentId());
            registry.acquire(second -> got.add("second too"), e -> got.add("second failed"));
            first.start(command("p-1"));
        }, e -> got.add("failed"));
        assertEquals(List.of("a-1"), got, "the second start waits; the agent has one slot");
        assertEquals(1, link.slotsTaken());
    }

    @Test
    void aChildsEndWakesAStartWaitingForRoomAtOnce() {
        AgentLink link = admitted("a-1", 1, new FakeStream());
        List<String> got = new CopyOnWriteArrayList<>();
        startOne("p-1", got);
        startOne("p-2", got);
        assertEquals(List.of("a-1"), got, "at capacity: p-2 waits");
        registry.childEnded(link);
        assertEquals(List.of("a-1", "a-1"), got, "room opened: p-2 started without waiting for a registration");
    }

    @Test
    void aSlotTheStartDidNotUseIsFreedForTheNext() {
        admitted("a-1", 1, new FakeStream());
        List<String> got = new CopyOnWriteArrayList<>();
        registry.acquire(port -> got.add("taken, not used"), e -> got.add("failed"));
        startOne("p-2", got);
        assertEquals(List.of("taken, not used", "a-1"), got);
    }

    @Test
    void startsGoToTheLeastLoadedAgent() {
        admitted("a-1", 4, new FakeStream());
        admitted("a-2", 4, new FakeStream());
        List<String> got = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 4; i++) {
            startOne("p-" + i, got);
        }
        assertEquals(2, got.stream().filter("a-1"::equals).count(), got.toString());
        assertEquals(2, got.stream().filter("a-2"::equals).count(), got.toString());
    }

    @Test
    void aStalledAgentsCommandsAreBoundedAndAStartPastTheBoundIsRefusedNamingTheAgent() {
        FakeStream stream = new FakeStream();
        AgentLink link = admitted("a-1", 100_000, stream);
        stream.ready.set(false);
        for (int i = 0; i < AgentLink.MAX_QUEUED; i++) {
            link.signal("p-" + i, 0, 15);
        }
        assertEquals(AgentLink.MAX_QUEUED, link.queued());
        List<String> got = new CopyOnWriteArrayList<>();
        startOne("p-late", got);
        assertEquals(1, refusedStarts.size());
        assertTrue(refusedStarts.getFirst().contains("a-1"), refusedStarts.getFirst());
        link.writeStdin("p-0", 0, new byte[10], false);
        assertEquals(1, refusedStdin.size());
        assertTrue(refusedStdin.getFirst().startsWith("p-0: agent a-1 is not reading"), refusedStdin.getFirst());
        assertEquals(0, stream.sent.size(), "nothing is sent while the agent does not read");
        // It reads again: what waited goes, in order.
        stream.ready.set(true);
        link.onReady();
        assertEquals(AgentLink.MAX_QUEUED, stream.sent.size());
        assertEquals("p-0", stream.sent.getFirst().getSignal().getProcessId());
        assertEquals(0, link.queued());
    }

    @Test
    void registrationsTheSupervisorDidNotLaunchAreRefusedAndTheLiveAgentStays() {
        FakeStream real = new FakeStream();
        admitted("a-1", 4, real);
        credentials.expect("a-2", 200, "secret-a-2");
        var unknown = assertThrows(AgentRegistry.Refused.class, () -> registry.register(
                new AgentLink("a-9", 100, 4, new FakeStream(), refusals()), "anything"));
        assertEquals(AgentCredentials.Refusal.UNKNOWN_AGENT, unknown.refusal());
        var wrong = assertThrows(AgentRegistry.Refused.class, () -> registry.register(
                new AgentLink("a-1", 100, 4, new FakeStream(), refusals()), "guessed"));
        assertEquals(AgentCredentials.Refusal.WRONG_SECRET, wrong.refusal());
        var again = assertThrows(AgentRegistry.Refused.class, () -> registry.register(
                new AgentLink("a-1", 100, 4, new FakeStream(), refusals()), "secret-a-1"));
        assertEquals(AgentCredentials.Refusal.ALREADY_REGISTERED, again.refusal());
        var otherPid = assertThrows(AgentRegistry.Refused.class, () -> registry.register(
                new AgentLink("a-2", 201, 4, new FakeStream(), refusals()), "secret-a-2"));
        assertEquals(AgentCredentials.Refusal.WRONG_PID, otherPid.refusal());

        assertEquals(List.of("a-1"), registry.links().stream().map(AgentLink::agentId).toList());
        assertEquals(List.of(), lost, "the live agent was not evicted");
        List<String> got = new CopyOnWriteArrayList<>();
        startOne("p-1", got);
        assertEquals(List.of("a-1"), got);
        assertEquals(1, real.sent.size(), "the real agent still gets the commands");
    }

    @Test
    void availabilityFollowsTheFirstAgentInAndTheLastOut() {
        List<Boolean> seen = new CopyOnWriteArrayList<>();
        registry.onAvailability(seen::add);
        AgentLink a1 = admitted("a-1", 1, new FakeStream());
        AgentLink a2 = admitted("a-2", 1, new FakeStream());
        registry.disconnected(a1, "test");
        assertEquals(List.of(false, true), seen);
        registry.disconnected(a2, "test");
        assertEquals(List.of(false, true, false), seen);
        assertEquals(List.of("a-1", "a-2"), lost);
    }

    @Test
    void aStartWaitingWhenNoAgentHasRoomFailsAfterTheLimit() throws Exception {
        var quick = new AgentRegistry(timers, Duration.ofMillis(50), (id, c) -> {}, credentials,
                new AgentLiveness(AgentLiveness.Settings.DEFAULT, System::nanoTime));
        var failure = new java.util.concurrent.CompletableFuture<ForkdException>();
        quick.acquire(port -> failure.complete(null), failure::complete);
        ForkdException e = failure.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals("NO_AGENT", e.reason());
        assertFalse(e.getMessage().isEmpty());
    }

    @Test
    void anAdoptedAgentIsAdmittedOnlyWithItsOwnSecretAndBringsItsChildrensSlots() {
        // As a restarted supervisor knows it: the SHA-256 of its secret, kept by the previous one.
        credentials.adopt("a-7", 700, AgentCredentials.sha256("the-real-secret"));
        FakeStream forgedStream = new FakeStream();
        AgentLink forged = new AgentLink("a-7", 700, 2, forgedStream, refusals());
        AgentRegistry.Refused refused = assertThrows(AgentRegistry.Refused.class,
                () -> registry.register(forged, "a-guessed-secret", () -> {
                    throw new AssertionError("a refused agent must claim no child");
                }));
        assertEquals(AgentCredentials.Refusal.WRONG_SECRET, refused.refusal());
        assertTrue(registry.links().isEmpty());

        FakeStream stream = new FakeStream();
        AgentLink real = new AgentLink("a-7", 700, 2, stream, refusals());
        registry.register(real, "the-real-secret", () -> 2); // it brought back two running children
        assertEquals(List.of(real), registry.links());
        // Both slots are taken by the adopted children: a new start waits for one to end.
        List<String> started = new CopyOnWriteArrayList<>();
        registry.acquire(port -> {
            port.start(command("p-9"));
            started.add(port.agentId());
        }, e -> started.add("failed: " + e.getMessage()));
        assertEquals(List.of(), started);
        registry.childEnded(real);
        assertEquals(List.of("a-7"), started);
    }
}
