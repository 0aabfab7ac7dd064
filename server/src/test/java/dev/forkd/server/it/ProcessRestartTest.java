package dev.forkd.server.it;

import static dev.forkd.server.testing.Observers.observer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import dev.forkd.server.testing.ErrorDetails;
import dev.forkd.v1.OutputChunk;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.RestartProcessRequest;
import dev.forkd.v1.RestartProcessResponse;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.StdinMode;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import dev.forkd.v1.WriteStdinRequest;
import dev.forkd.v1.WriteStdinResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code Restart}: stop, then start again under the same id; and {@code Watch} since a time. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProcessRestartTest {

    private static RealServer forkd;

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

    private static ProcessInfo get(String id) {
        return forkd.processes().get(dev.forkd.v1.GetProcessRequest.newBuilder().setName(id).build()).getProcess();
    }

    private static ProcessInfo restart(RestartProcessRequest.Builder r) {
        return forkd.processes().restart(r.build()).getProcess();
    }

    private static SpawnRequest.Builder sh(String script) {
        return SpawnRequest.newBuilder().addArgv("sh").addArgv("-c").addArgv(script);
    }

    /** The whole log as text, as it is now. */
    private static String logs(String id, WatchProcessRequest.Builder r) {
        StringBuilder out = new StringBuilder();
        Iterator<WatchProcessResponse> it = forkd.processes().watch(r.setName(id).setFollow(false).build());
        it.forEachRemaining(m -> {
            if (m.hasOutput()) {
                out.append(m.getOutput().getData().toString(StandardCharsets.UTF_8));
            }
        });
        return out.toString();
    }

    /** Follows the output until it holds {@code text}. */
    private static void awaitOutput(String id, String text) {
        StringBuilder out = new StringBuilder();
        Iterator<WatchProcessResponse> it = forkd.processes().watch(
                WatchProcessRequest.newBuilder().setName(id).setFollow(true).build());
        while (!out.toString().contains(text)) {
            assertTrue(it.hasNext(), () -> "ended before \"" + text + "\": " + out);
            WatchProcessResponse m = it.next();
            if (m.hasOutput()) {
                OutputChunk c = m.getOutput();
                out.append(c.getData().toString(StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void aRunningProcessIsStoppedAndStartedAgainUnderTheSameId() throws Exception {
        ProcessInfo p = spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000"));
        ProcessInfo again = restart(RestartProcessRequest.newBuilder().setName(p.getId()));
        assertEquals(p.getId(), again.getId());
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, again.getState(), again::toString);
        assertNotEquals(p.getPid(), again.getPid());
        assertEquals(1, again.getRestartCount());
        Eventually.await(java.time.Duration.ofSeconds(10), () -> Procs.gone(p.getPid()),
                () -> "the old run still there: " + Procs.stat(p.getPid()));
        forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId())
                .setKind(SignalKind.SIGNAL_KIND_KILL).build());
        ProcessInfo end = forkd.join(p.getId());
        assertEquals(-9, end.getExitCode(), "the new run is the one a kill reaches");
        assertEquals(1, end.getRestartCount());
    }

    @Test
    void anEndedProcessIsStartedAgainAndItsOutputGoesOn() {
        ProcessInfo p = spawn(sh("echo run").setName("restart-ended"));
        assertEquals(0, forkd.join(p.getId()).getExitCode());
        ProcessInfo again = restart(RestartProcessRequest.newBuilder().setName("restart-ended"));
        assertEquals(p.getId(), again.getId());
        assertEquals(1, again.getRestartCount());
        ProcessInfo end = forkd.join(p.getId());
        assertEquals(ProcessState.PROCESS_STATE_EXITED, end.getState());
        assertEquals("run\nrun\n", logs(p.getId(), WatchProcessRequest.newBuilder()));
        assertEquals(2, restart(RestartProcessRequest.newBuilder().setName(p.getId())).getRestartCount());
        assertEquals(2, forkd.join(p.getId()).getRestartCount());
    }

    @Test
    void aChildThatIgnoresTermIsKilledAfterTheGrace() {
        ProcessInfo p = spawn(sh("trap '' TERM; echo ready; exec sleep 1000"));
        awaitOutput(p.getId(), "ready");
        ProcessInfo again = restart(RestartProcessRequest.newBuilder().setName(p.getId())
                .setGrace(Duration.newBuilder().setNanos(100_000_000)));
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, again.getState(), again::toString);
        assertNotEquals(p.getPid(), again.getPid());
        forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId())
                .setKind(SignalKind.SIGNAL_KIND_KILL).build());
        assertEquals(-9, forkd.join(p.getId()).getExitCode());
    }

    @Test
    void aKillBeforeTheNewRunCancelsTheRestart() throws Exception {
        // It says so when a SIGTERM comes, and runs on.
        ProcessInfo p = spawn(sh("trap 'echo term' TERM; echo ready; while :; do sleep 1; done"));
        awaitOutput(p.getId(), "ready");
        CompletableFuture<RestartProcessResponse> answer = new CompletableFuture<>();
        // A grace with no limit: the restart waits for the child to end, which only the kill does.
        forkd.processesAsync().restart(RestartProcessRequest.newBuilder().setName(p.getId())
                .setGrace(Duration.newBuilder().setSeconds(315_576_000_000L)).build(), observer(answer));
        awaitOutput(p.getId(), "term"); // the restart is under way
        assertTrue(!answer.isDone(), () -> "answered before the child ended: " + answer);
        forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId())
                .setKind(SignalKind.SIGNAL_KIND_KILL).build());
        var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> answer.get(30, TimeUnit.SECONDS));
        StatusRuntimeException s = (StatusRuntimeException) e.getCause();
        assertEquals(Status.Code.FAILED_PRECONDITION, s.getStatus().getCode());
        assertEquals("RESTART_CANCELLED", ErrorDetails.reason(s));
        ProcessInfo end = forkd.join(p.getId());
        assertEquals(-9, end.getExitCode());
        assertEquals(0, end.getRestartCount());
    }

    @Test
    void refusedRestartsChangeNothing() {
        ProcessInfo p = spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000"));
        var unknown = assertThrows(StatusRuntimeException.class,
                () -> restart(RestartProcessRequest.newBuilder().setName("p-999999")));
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
        var empty = assertThrows(StatusRuntimeException.class, () -> restart(RestartProcessRequest.newBuilder()));
        assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
        var negative = assertThrows(StatusRuntimeException.class, () -> restart(RestartProcessRequest.newBuilder()
                .setName(p.getId()).setGrace(Duration.newBuilder().setSeconds(-1))));
        assertEquals(Status.Code.INVALID_ARGUMENT, negative.getStatus().getCode());
        assertEquals("grace", ErrorDetails.field(negative));
        ProcessInfo now = get(p.getId());
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, now.getState());
        assertEquals(p.getPid(), now.getPid());
        assertEquals(0, now.getRestartCount());
        forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId())
                .setKind(SignalKind.SIGNAL_KIND_KILL).build());
        forkd.join(p.getId());
    }

    @Test
    void watchSinceGivesOnlyOutputCapturedThenOrLater() throws Exception {
        ProcessInfo p = spawn(sh("echo one; read x; echo two; read y").setStdinMode(StdinMode.STDIN_MODE_PIPE));
        awaitOutput(p.getId(), "one");
        Instant between = Instant.now();
        CompletableFuture<WriteStdinResponse> written = new CompletableFuture<>();
        StreamObserver<WriteStdinRequest> in = forkd.processesAsync().writeStdin(observer(written));
        in.onNext(WriteStdinRequest.newBuilder().setName(p.getId())
                .setData(com.google.protobuf.ByteString.copyFromUtf8("x\n")).build());
        in.onCompleted();
        written.get(30, TimeUnit.SECONDS);
        awaitOutput(p.getId(), "two");
        assertEquals("two\n", logs(p.getId(), WatchProcessRequest.newBuilder().setSince(ts(between))));
        assertEquals("one\ntwo\n", logs(p.getId(), WatchProcessRequest.newBuilder().setSince(ts(Instant.EPOCH))));
        assertEquals("", logs(p.getId(), WatchProcessRequest.newBuilder().setSince(ts(Instant.now().plusSeconds(60)))));
        var bad = assertThrows(StatusRuntimeException.class, () -> logs(p.getId(), WatchProcessRequest.newBuilder()
                .setSince(Timestamp.newBuilder().setSeconds(-99_999_999_999L))));
        assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
        assertEquals("since", ErrorDetails.field(bad));
        forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId())
                .setKind(SignalKind.SIGNAL_KIND_KILL).build());
        forkd.join(p.getId());
    }

    private static Timestamp ts(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
}
