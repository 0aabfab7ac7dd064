package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.v1.Event;
import dev.forkd.v1.EventKind;
import dev.forkd.v1.EventServiceGrpc;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.WatchEventsRequest;
import dev.forkd.posix.Posix;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** An agent's death is seen on the event stream: the agent lost, its process lost, a replacement registered. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AgentEventsTest {

    @Test
    void aKilledAgentIsSeenLostWithItsProcessAndItsReplacementRegisters() throws Exception {
        RealServer forkd = new RealServer(1, AgentLiveness.Settings.DEFAULT);
        try {
            try (EventWatcher w = new EventWatcher(EventServiceGrpc.newStub(forkd.channel),
                    WatchEventsRequest.getDefaultInstance())) {
                ProcessInfo p = forkd.processes().spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("300")
                        .build()).getProcess();
                assertEquals(0, new Posix().kill(Agents.pid(p.getAgentId()), 9));
                Event lost = w.next(e -> e.getKind() == EventKind.EVENT_KIND_AGENT_LOST);
                assertEquals(p.getAgentId(), lost.getId());
                Event processLost = w.next(e -> e.getKind() == EventKind.EVENT_KIND_PROCESS_EXITED
                        && e.getId().equals(p.getId()));
                assertEquals("lost", processLost.getAttributesOrThrow("cause"));
                Event replacement = w.next(e -> e.getKind() == EventKind.EVENT_KIND_AGENT_REGISTERED);
                assertEquals("true", replacement.getAttributesOrThrow("replacement"));
            }
        } finally {
            forkd.closeLeavingNothing();
        }
    }
}
