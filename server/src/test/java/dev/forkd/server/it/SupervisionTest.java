package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import dev.forkd.posix.Posix;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.RestartPolicy;
import dev.forkd.v1.RestartSpec;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What a supervisor must do when things die: agents, sessions, restarts, timeouts. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SupervisionTest {

    private static RealServer forkd;
    private static final Posix POSIX = new Posix();

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    private static ProcessInfo spawn(SpawnRequest.Builder r) {
        return forkd.processes().spawn(r.build()).getProcess();
    }

    @Test
    void aKilledAgentLosesItsProcessesKillsThemAndIsReplaced() throws Exception {
        ProcessInfo p = spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000"));
        int agentPid = agentPid(p.getAgentId());
        assertEquals(0, POSIX.kill(agentPid, 9));
        ProcessInfo lost = forkd.join(p.getId());
        assertEquals(ProcessState.PROCESS_STATE_LOST, lost.getState());
        assertTrue(lost.getFailure().contains(p.getAgentId()), lost.getFailure());
        // Its child does not run on unseen: killed, and reaped by the supervisor (a subreaper).
        Eventually.await(java.time.Duration.ofSeconds(10), () -> Procs.gone(p.getPid()),
                () -> "child still there: " + Procs.stat(p.getPid()));
        // A new agent takes over: spawning works again (it waits for the replacement to register).
        ProcessInfo next = spawn(SpawnRequest.newBuilder().addArgv("sh").addArgv("-c").addArgv("exit 5"));
        assertNotEquals(p.getAgentId(), next.getAgentId());
        assertEquals(5, forkd.join(next.getId()).getExitCode());
    }

    private static int agentPid(String agentId) {
        // The agent is a child of this JVM (the supervisor runs in-process here) running AgentMain.
        for (Procs.Stat s : Procs.childrenOf((int) ProcessHandle.current().pid())) {
            String cmd;
            try {
                cmd = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Integer.toString(s.pid()), "cmdline"));
            } catch (java.io.IOException e) {
                continue;
            }
            if (cmd.contains("\0--agent-id\0" + agentId + "\0")) {
                return s.pid();
            }
        }
        throw new AssertionError("no agent process " + agentId);
    }

    @Test
    void onFailureRestartsWithBackoffThenGoesFatal() {
        ProcessInfo p = spawn(SpawnRequest.newBuilder().addArgv("sh").addArgv("-c").addArgv("exit 1")
                .setRestart(RestartSpec.newBuilder().setPolicy(RestartPolicy.RESTART_POLICY_ON_FAILURE)
                        .setInitialBackoff(Duration.newBuilder().setNanos(10_000_000))
                        .setMaxBackoff(Duration.newBuilder().setNanos(40_000_000))
                        .setMaxRestarts(3)));
        ProcessInfo end = forkd.join(p.getId());
        assertEquals(ProcessState.PROCESS_STATE_FATAL, end.getState());
        assertEquals(3, end.getRestartCount());
        assertEquals(1, end.getExitCode());
        assertTrue(end.getFailure().contains("max_restarts 3"), end.getFailure());
    }

    @Test
    void aFatalRecordSaysHowItsLastRunEndedAndStopsTheClock() {
        ProcessInfo p = spawn(SpawnRequest.newBuilder().addArgv("sh").addArgv("-c").addArgv("exit 7")
                .setRestart(RestartSpec.newBuilder().setPolicy(RestartPolicy.RESTART_POLICY_ON_FAILURE)
                        .setInitialBackoff(Duration.newBuilder().setNanos(10_000_000))
                        .setMaxRestarts(1)));
        ProcessInfo end = forkd.join(p.getId());
        assertEquals(ProcessState.PROCESS_STATE_FATAL, end.getState());
        assertTrue(end.getFailure().endsWith("last run: exited with code 7"), end.getFailure());
        assertTrue(end.hasEndedAt() && end.getEndedAt().getSeconds() > 0,
                () -> "a given-up process has ended: its runtime stops growing: " + end);
        assertTrue(end.getStartedAt().getSeconds() * 1_000_000_000L + end.getStartedAt().getNanos()
                <= end.getEndedAt().getSeconds() * 1_000_000_000L + end.getEndedAt().getNanos(), end::toString);
        assertFalse(end.hasPid(), () -> "no run is current, so no pid: " + end);
    }

    @Test
    void onFailureDoesNotRestartASuccess() {
        ProcessInfo p = spawn(SpawnRequest.newBuilder().addArgv("true")
                .setRestart(RestartSpec.newBuilder().setPolicy(RestartPolicy.RESTART_POLICY_ON_FAILURE)));
        ProcessInfo end = forkd.join(p.getId());
        assertEquals(ProcessState.PROCESS_STATE_EXITED, end.getState());
        assertEquals(0, end.getRestartCount());
    }

    @Test
    void terminateStopsAnAlwaysRestartingProcessForGood() {
        ProcessInfo p = spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000")
                .setRestart(RestartSpec.newBuilder().setPolicy(RestartPolicy.RESTART_POLICY_ALWAYS)));
        forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId()).setKind(SignalKind.SIGNAL_KIND_TERMINATE).build());
        ProcessInfo end = forkd.join(p.getId());
        assertEquals(ProcessState.PROCESS_STATE_SIGNALED, end.getState());
        assertEquals(0, end.getRestartCount());
    }

    @Test
    void aRunTimeoutTerminatesTheProcess() {
        ProcessInfo p = spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000")
                .setTimeout(Duration.newBuilder().setNanos(200_000_000)));
        assertEquals(-15, forkd.join(p.getId()).getExitCode());
    }

    @Test
    void daemonProcessesEndWithTheirSession() throws Exception {
        CompletableFuture<OpenSessionResponse> opened = new CompletableFuture<>();
        StreamObserver<OpenSessionRequest> session = forkd.sessionsAsync().open(new StreamObserver<>() {
            @Override
            public void onNext(OpenSessionResponse r) {
                opened.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                opened.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        session.onNext(OpenSessionRequest.newBuilder().setName("test").build());
        String sid = opened.get(10, TimeUnit.SECONDS).getCredential();
        Metadata h = new Metadata();
        h.put(Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER), sid);
        ProcessServiceGrpc.ProcessServiceBlockingStub withSession =
                forkd.processes().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
        ProcessInfo daemon = withSession.spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000")
                .setDaemon(true).build()).getProcess();
        ProcessInfo notDaemon = withSession.spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000").build()).getProcess();
        session.onCompleted(); // the session ends with its stream
        assertEquals(-15, forkd.join(daemon.getId()).getExitCode());
        assertTrue(forkd.processes().get(dev.forkd.v1.GetProcessRequest.newBuilder().setName(notDaemon.getId()).build())
                .getProcess().getIsAlive());
        forkd.processes().signal(SignalRequest.newBuilder().setName(notDaemon.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        forkd.join(notDaemon.getId());

        // The session has ended: its credential acts as nothing any more, so the spawn is refused.
        int before = forkd.processes().list(dev.forkd.v1.ListProcessesRequest.getDefaultInstance()).getProcessesCount();
        var refused = org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class,
                () -> withSession.spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000").setDaemon(true).build()));
        assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
        assertFalse(refused.getStatus().getDescription().contains(sid), "an error must not repeat a credential");
        assertEquals(before, forkd.processes().list(dev.forkd.v1.ListProcessesRequest.getDefaultInstance()).getProcessesCount(),
                "a refused spawn left a record");
    }

    @Test
    void childrenGetTheirAddressIdAndSession() {
        ProcessInfo p = spawn(SpawnRequest.newBuilder().addArgv("sh").addArgv("-c")
                .addArgv("test -n \"$FORKD_ADDRESS\" && test \"$FORKD_PROCESS_ID\" = \"$ME\" && test -n \"$FORKD_SESSION\"")
                .putEnv("ME", "p-placeholder"));
        // FORKD_PROCESS_ID is the process's own id: compare against what the server says.
        ProcessInfo end = forkd.join(p.getId());
        assertEquals(1, end.getExitCode(), "ME was a placeholder, so the id comparison must fail");
        ProcessInfo q = spawn(SpawnRequest.newBuilder().addArgv("sh").addArgv("-c")
                .addArgv("test -n \"$FORKD_ADDRESS\" && case \"$FORKD_PROCESS_ID\" in p-*) ;; *) exit 9;; esac && test -n \"$FORKD_SESSION\""));
        assertEquals(0, forkd.join(q.getId()).getExitCode());
    }
}
