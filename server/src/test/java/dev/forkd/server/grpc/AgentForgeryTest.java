package dev.forkd.server.grpc;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.process.ProcessState;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.process.RestartSpec;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentRegister;
import dev.forkd.agent.v1.AgentServiceGrpc;
import dev.forkd.agent.v1.ChildStarted;
import dev.forkd.agent.v1.SupervisorMessage;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Someone who can reach the agent channel (here: who holds its channel token) tries to pass for an
 * agent. The real AgentService over real gRPC stubs, with a scripted agent standing in for the
 * real one. Each attempt is refused with its own code and reason, the real agent keeps its
 * children and its commands, and no forger is ever sent one.
 */
@Timeout(60)
class AgentForgeryTest {

    private static final String SECRET = "the-real-agents-secret";

    private InProcessServer server;
    private ManagedChannel channel;
    private ProcessTable table;
    private AgentRegistry registry;
    private ScriptedAgent real;

    /** An agent stream driven by the test: it answers every start with ChildStarted. */
    private final class ScriptedAgent implements StreamObserver<SupervisorMessage> {
        final BlockingQueue<SupervisorMessage> commands = new LinkedBlockingQueue<>();
        final CompletableFuture<Status> ended = new CompletableFuture<>();
        final StreamObserver<AgentMessage> out;
        final boolean answers;

        ScriptedAgent(String agentId, int pid, String secret, boolean answers) {
            this.answers = answers;
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("forkd-agent-token", Metadata.ASCII_STRING_MARSHALLER), InProcessServer.AGENT_TOKEN);
            out = AgentServiceGrpc.newStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).connect(this);
            synchronized (out) {
                out.onNext(AgentMessage.newBuilder().setRegister(AgentRegister.newBuilder()
                        .setAgentId(agentId).setPid(pid).setCapacity(8).setSecret(secret)).build());
            }
        }

        @Override
        public void onNext(SupervisorMessage m) {
            commands.add(m);
            if (answers && m.hasStart()) {
                synchronized (out) {
                    out.onNext(AgentMessage.newBuilder().setStarted(ChildStarted.newBuilder()
                            .setProcessId(m.getStart().getProcessId()).setRun(m.getStart().getRun())
                            .setPid(5000 + commands.size())).build());
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            ended.complete(Status.OK);
        }

    }

    @BeforeEach
    void start() throws Exception {
        server = InProcessServer.withRegisteredAgents();
        server.agentCredentials().expect("a-1", 4242, SECRET);
        channel = server.channel();
        registry = server.agents();
        table = server.processes();
        CompletableFuture<Void> registered = new CompletableFuture<>();
        registry.onRegistration(() -> registered.complete(null));
        real = new ScriptedAgent("a-1", 4242, SECRET, true);
        registered.get(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private ProcessSnapshot spawn() throws Exception {
        CompletableFuture<ProcessSnapshot> started = new CompletableFuture<>();
        table.spawn(new ProcessSpec(List.of("sleep", "1000"), java.util.Map.of(), Optional.empty(), Optional.empty(),
                java.util.Map.of(), false, false, Optional.empty(), RestartSpec.NEVER, 1024, Duration.ofSeconds(1),
                Optional.empty(), false), started::complete, started::completeExceptionally);
        return started.get(30, TimeUnit.SECONDS);
    }

    /** The forger's stream ends with this status code; returns its ErrorInfo reason. */
    private static String refusedWith(Status.Code code, ScriptedAgent forger) throws Exception {
        Status s = forger.ended.get(30, TimeUnit.SECONDS);
        assertEquals(code, s.getCode(), s.toString());
        assertTrue(forger.commands.isEmpty(), "a forger was sent commands: " + forger.commands);
        return s.getDescription();
    }

    @Test
    void forgedRegistrationsAreRefusedAndTheRealAgentKeepsItsChildrenAndItsCommands() throws Exception {
        ProcessSnapshot before = spawn();
        assertEquals(Optional.of("a-1"), before.agentId());

        var wrongSecret = new ScriptedAgent("a-1", 4242, "guessed", false);
        assertTrue(refusedWith(Status.Code.PERMISSION_DENIED, wrongSecret).contains("secret"));
        var secondOfLiveId = new ScriptedAgent("a-1", 4242, SECRET, false);
        assertTrue(refusedWith(Status.Code.ALREADY_EXISTS, secondOfLiveId).contains("registered already"));
        var newId = new ScriptedAgent("a-2", 4242, SECRET, false);
        assertTrue(refusedWith(Status.Code.PERMISSION_DENIED, newId).contains("no agent \"a-2\""));

        assertEquals(1, registry.links().size());
        assertTrue(table.get(before.id()).state() instanceof ProcessState.Running,
                "the real agent's child was not lost: " + table.get(before.id()).state());
        assertEquals(Optional.of("a-1"), spawn().agentId(), "spawns still go to the real agent");
        assertTrue(!real.ended.isDone(), "the real agent's stream is open");
    }

    @Test
    void aRefusalCarriesAnErrorInfoReason() throws Exception {
        CompletableFuture<StatusRuntimeException> error = new CompletableFuture<>();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("forkd-agent-token", Metadata.ASCII_STRING_MARSHALLER), InProcessServer.AGENT_TOKEN);
        var out = AgentServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .connect(new StreamObserver<>() {
                    @Override
                    public void onNext(SupervisorMessage m) {}

                    @Override
                    public void onError(Throwable t) {
                        error.complete((StatusRuntimeException) t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        out.onNext(AgentMessage.newBuilder().setRegister(AgentRegister.newBuilder()
                .setAgentId("a-1").setPid(4242).setSecret("guessed")).build());
        assertEquals("AGENT_WRONG_SECRET", reason(error.get(30, TimeUnit.SECONDS)));
    }
}
