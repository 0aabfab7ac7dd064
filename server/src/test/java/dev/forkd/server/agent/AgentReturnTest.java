package dev.forkd.server.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.agent.v1.SupervisorMessage;
import dev.forkd.server.process.AgentPort;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The wait for the previous supervisor's agents, and the line that tells how it went, on a fake clock. */
class AgentReturnTest {

    private final ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1);
    private final AgentCredentials credentials = new AgentCredentials();
    private final AgentRegistry registry = new AgentRegistry(timers, Duration.ofMinutes(5), (id, cause) -> {},
            credentials, new AgentLiveness(AgentLiveness.Settings.DEFAULT, System::nanoTime));
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    private void comesBack(String id) {
        credentials.adopt(id, 100, AgentCredentials.sha256("secret-" + id));
        AgentLink.Outlet outlet = new AgentLink.Outlet() {
            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void send(SupervisorMessage message) {}
        };
        registry.register(new AgentLink(id, 100, 4, outlet, new AgentLink.Refusals() {
            @Override
            public void start(AgentPort.StartCommand command, String why) {}

            @Override
            public void stdin(String processId, int run, String why) {}
        }), "secret-" + id, () -> 0);
    }

    @Test
    void theLineCountsAgentsBackApartFromThoseThatEndedOrNeverCame() {
        AgentReturn wait = new AgentReturn(registry, now::get);
        wait.await(List.of("a-1", "a-2", "a-3", "a-4"));
        assertEquals(Set.of("a-1", "a-2", "a-3", "a-4"), wait.missing());
        now.addAndGet(300_000_000L);
        comesBack("a-1");
        now.addAndGet(200_000_000L);
        comesBack("a-2");
        wait.gone("a-3");
        assertEquals(Set.of("a-4"), wait.missing());
        assertEquals(1, wait.allBack().getCount(), "a-4 is still awaited");
        Optional<String> line = wait.summary(now.get() + 10_000_000L);
        assertEquals(Optional.of("2 of 4 agents of the previous supervisor back after 0.50 s, 1 ended first,"
                + " 1 never came back; serving 0.01 s after the last came back"), line);
        wait.gone("a-4");
        assertEquals(0, wait.allBack().getCount());
        assertTrue(wait.summary(now.get()).orElseThrow().startsWith("2 of 4 agents"), "an agent that ended is not back");
    }

    @Test
    void noLineWhenNoAgentWasAwaited() {
        AgentReturn wait = new AgentReturn(registry, now::get);
        wait.await(List.of());
        assertEquals(0, wait.allBack().getCount());
        assertEquals(Optional.empty(), wait.summary(now.get()));
    }
}
