package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.posix.Posix;
import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentRegister;
import dev.forkd.agent.v1.AgentServiceGrpc;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.agent.v1.SupervisorMessage;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Agents that stop, die or are impersonated, and the descendants that escape a child's group, on
 * a real server with real agents: heartbeats every 250 ms, lost after 5 s of silence (short for
 * the test, long enough that a loaded machine does not lose a healthy agent).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AgentFaultsTest {

    private static final Posix POSIX = new Posix();
    private static final Duration DEAD_AFTER = Duration.ofSeconds(5);
    private static RealServer forkd;

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1, new AgentLiveness.Settings(Duration.ofMillis(250), DEAD_AFTER));
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    private static ProcessInfo spawn(String... argv) {
        return forkd.processes().spawn(SpawnRequest.newBuilder().addAllArgv(List.of(argv)).build()).getProcess();
    }

    @Test
    void aStoppedAgentIsDeclaredLostKilledAndReplacedAndASpawnSentToItMovesOn() throws Exception {
        BlockingQueue<ServingStatus> health = new LinkedBlockingQueue<>();
        HealthGrpc.newStub(forkd.channel).watch(HealthCheckRequest.newBuilder()
                .setService("forkd.v1.ProcessService").build(), collect(health));
        assertEquals(ServingStatus.SERVING, health.poll(30, TimeUnit.SECONDS));

        ProcessInfo p = spawn("sleep", "1000");
        int agentPid = Agents.pid(p.getAgentId());
        assertEquals(0, POSIX.kill(agentPid, 19)); // SIGSTOP
        long stoppedAt = System.nanoTime();
        // Sent to the stopped agent (the only one), never answered: it must move to the
        // replacement within its wait for an agent, not hang or fail.
        CompletableFuture<ProcessInfo> late = CompletableFuture.supplyAsync(() -> spawn("sh", "-c", "exit 7"));

        ProcessInfo lost = forkd.join(p.getId());
        long lostAfterMillis = (System.nanoTime() - stoppedAt) / 1_000_000;
        assertEquals(ProcessState.PROCESS_STATE_LOST, lost.getState());
        assertTrue(lost.getFailure().contains("sent nothing"), lost.getFailure());
        assertTrue(lostAfterMillis < DEAD_AFTER.toMillis() + 8_000, "lost after " + lostAfterMillis + " ms");
        // The stopped agent is killed (it can never resume and act), and so is its child's group.
        Eventually.await(Duration.ofSeconds(10), () -> Procs.gone(agentPid), () -> "agent " + Procs.stat(agentPid));
        Eventually.await(Duration.ofSeconds(10), () -> Procs.gone(p.getPid()), () -> "child " + Procs.stat(p.getPid()));

        ProcessInfo moved = late.get(60, TimeUnit.SECONDS);
        assertNotEquals(p.getAgentId(), moved.getAgentId());
        assertEquals(7, forkd.join(moved.getId()).getExitCode());
        // Health said so: not serving while no agent could take work, serving again after.
        assertEquals(ServingStatus.NOT_SERVING, health.poll(30, TimeUnit.SECONDS));
        assertEquals(ServingStatus.SERVING, health.poll(30, TimeUnit.SECONDS));
    }

    @Test
    void aDescendantThatEscapedItsGroupIsEndedOnceItsLeaderHasEnded() throws Exception {
        ProcessInfo p = spawn("sh", "-c", "setsid sleep 778 & sleep 2");
        assertEquals(0, forkd.join(p.getId()).getExitCode());
        Eventually.await(Duration.ofSeconds(10), () -> Agents.running("sleep", "778").isEmpty(),
                () -> "escaped: " + Agents.running("sleep", "778"));
    }

    @Test
    void aDescendantThatEscapedIsEndedWhenItsAgentIsKilled() throws Exception {
        ProcessInfo p = spawn("sh", "-c", "(setsid sleep 779 &); sleep 1000");
        Eventually.await(Duration.ofSeconds(10), () -> !Agents.running("sleep", "779").isEmpty(), () -> "not started");
        assertEquals(0, POSIX.kill(Agents.pid(p.getAgentId()), 9));
        assertEquals(ProcessState.PROCESS_STATE_LOST, forkd.join(p.getId()).getState());
        Eventually.await(Duration.ofSeconds(10), () -> Agents.running("sleep", "779").isEmpty(),
                () -> "escaped: " + Agents.running("sleep", "779"));
        assertEquals(0, forkd.join(spawn("true").getId()).getExitCode(), "the replacement runs work");
    }

    @Test
    void anAgentsSecretsAreNeitherInItsEnvironmentNorItsArgvNorInheritedByChildren() throws Exception {
        ProcessInfo p = spawn("sh", "-c", "if [ -e /proc/$$/fd/3 ]; then echo open; else echo closed; fi; sleep 1000");
        int agentPid = Agents.pid(p.getAgentId());
        String environ = Files.readString(Path.of("/proc", Integer.toString(agentPid), "environ"));
        String cmdline = Files.readString(Path.of("/proc", Integer.toString(agentPid), "cmdline"));
        assertFalse(environ.contains("FORKD_AGENT_TOKEN"), "token in the agent's environment");
        assertTrue(cmdline.contains("\0--secret-fd\0" + "3\0"), cmdline);
        assertFalse(cmdline.matches("(?s).*[0-9a-f]{32}.*"), "something secret-like in argv: " + cmdline);
        // Read once at start and closed: nothing of it stays open in the agent.
        assertFalse(Files.exists(Path.of("/proc", Integer.toString(agentPid), "fd", "3"))
                && Files.readSymbolicLink(Path.of("/proc", Integer.toString(agentPid), "fd", "3")).toString().startsWith("pipe:"),
                "the secret pipe is still open in the agent");
        String childEnv = Files.readString(Path.of("/proc", Integer.toString(p.getPid()), "environ"));
        assertFalse(childEnv.contains("FORKD_AGENT_TOKEN"), childEnv);
        forkd.processes().signal(dev.forkd.v1.SignalRequest.newBuilder().setName(p.getId())
                .setKind(dev.forkd.v1.SignalKind.SIGNAL_KIND_KILL).build());
        forkd.join(p.getId());
        var out = forkd.processes().withDeadlineAfter(30, TimeUnit.SECONDS).watch(
                dev.forkd.v1.WatchProcessRequest.newBuilder().setName(p.getId()).build());
        StringBuilder text = new StringBuilder();
        out.forEachRemaining(r -> text.append(r.toString()));
        assertTrue(text.toString().contains("closed"), text.toString());
    }

    @Test
    void anAgentStreamWithoutTheChannelTokenIsRefusedAndTheRealAgentKeepsWorking() throws Exception {
        ProcessInfo running = spawn("sleep", "1000");
        for (String token : new String[] {"", "guessed-token-000000000000"}) {
            Metadata headers = new Metadata();
            if (!token.isEmpty()) {
                headers.put(Metadata.Key.of("forkd-agent-token", Metadata.ASCII_STRING_MARSHALLER), token);
            }
            CompletableFuture<Status> ended = new CompletableFuture<>();
            var forger = AgentServiceGrpc.newStub(forkd.channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .connect(new StreamObserver<SupervisorMessage>() {
                        @Override
                        public void onNext(SupervisorMessage m) {
                            ended.complete(Status.INTERNAL.withDescription("a forger got a command: " + m));
                        }

                        @Override
                        public void onError(Throwable t) {
                            ended.complete(Status.fromThrowable(t));
                        }

                        @Override
                        public void onCompleted() {
                            ended.complete(Status.OK);
                        }
                    });
            forger.onNext(AgentMessage.newBuilder().setRegister(AgentRegister.newBuilder()
                    .setAgentId(running.getAgentId()).setPid(1).setCapacity(10)).build());
            assertEquals(Status.Code.UNAUTHENTICATED, ended.get(30, TimeUnit.SECONDS).getCode());
        }
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, forkd.processes().get(
                dev.forkd.v1.GetProcessRequest.newBuilder().setName(running.getId()).build()).getProcess().getState());
        assertEquals(0, forkd.join(spawn("true").getId()).getExitCode());
        forkd.processes().signal(dev.forkd.v1.SignalRequest.newBuilder().setName(running.getId())
                .setKind(dev.forkd.v1.SignalKind.SIGNAL_KIND_KILL).build());
        forkd.join(running.getId());
    }

    private static StreamObserver<HealthCheckResponse> collect(BlockingQueue<ServingStatus> into) {
        return new StreamObserver<>() {
            @Override
            public void onNext(HealthCheckResponse r) {
                into.add(r.getStatus());
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
    }
}
