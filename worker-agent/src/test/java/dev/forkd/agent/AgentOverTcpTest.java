package dev.forkd.agent;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentShutdown;
import dev.forkd.agent.v1.StartChild;
import dev.forkd.agent.v1.SupervisorMessage;
import io.grpc.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentOverTcpTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void registersRunsAChildAndShutsDownOverTcpWithTheToken(@TempDir Path dir) throws Exception {
        try (FakeSupervisor supervisor = FakeSupervisor.onTcp("tcp-token");
             AgentProcess agent = new AgentProcess("127.0.0.1:" + supervisor.port(), "tcp-agent", 1, "tcp-token",
                     dir.resolve("agent.log"))) {
            AgentMessage register = supervisor.next(WAIT);
            assertEquals("tcp-agent", register.getRegister().getAgentId());
            assertEquals(1, register.getRegister().getCapacity());
            assertEquals("tcp-token", supervisor.tokenSeen());

            supervisor.send(SupervisorMessage.newBuilder().setStart(StartChild.newBuilder().setProcessId("t")
                    .addArgv("true")).build());
            assertTrue(supervisor.next(WAIT).hasStarted());
            assertEquals(0, supervisor.next(WAIT).getExited().getExitCode());

            supervisor.send(SupervisorMessage.newBuilder().setShutdown(AgentShutdown.getDefaultInstance()).build());
            assertEquals(Status.OK, supervisor.agentStreamEnded().get(20, TimeUnit.SECONDS));
            assertEquals(0, agent.awaitExit(WAIT));
        }
    }

    @Test
    void aWrongTokenIsRefusedAndTheAgentExits(@TempDir Path dir) throws Exception {
        try (FakeSupervisor supervisor = FakeSupervisor.onTcp("right");
             AgentProcess agent = new AgentProcess("127.0.0.1:" + supervisor.port(), "a", 1, "wrong",
                     dir.resolve("agent.log"))) {
            assertEquals(1, agent.awaitExit(WAIT));
            assertEquals("wrong", supervisor.tokenSeen());
            assertTrue(agent.log().contains("UNAUTHENTICATED"), agent.log());
        }
    }
}
