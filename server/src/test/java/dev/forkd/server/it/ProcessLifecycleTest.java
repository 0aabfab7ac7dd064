package dev.forkd.server.it;

import static dev.forkd.server.testing.Observers.observer;
import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.JoinProcessResponse;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
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
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Spawn, join, signal, output and stdin against a real supervisor with real agents and children. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProcessLifecycleTest {

    private static RealServer forkd;

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(2);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    static SpawnRequest.Builder cmd(String... argv) {
        return SpawnRequest.newBuilder().addAllArgv(List.of(argv));
    }

    static ProcessInfo spawn(SpawnRequest.Builder r) {
        return forkd.processes().spawn(r.build()).getProcess();
    }

    static ProcessInfo join(String id) {
        return forkd.join(id);
    }

    @Test
    void spawnGivesPidAndExitCode() {
        ProcessInfo p = spawn(cmd("sh", "-c", "exit 3"));
        assertTrue(p.getPid() > 0);
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, p.getState());
        ProcessInfo done = join(p.getId());
        assertEquals(ProcessState.PROCESS_STATE_EXITED, done.getState());
        assertEquals(3, done.getExitCode());
        assertFalse(done.getIsAlive());
        assertTrue(done.hasEndedAt());
    }

    @Test
    void killNineIsMinusNine() {
        ProcessInfo p = spawn(cmd("sleep", "1000"));
        forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        ProcessInfo done = join(p.getId());
        assertEquals(ProcessState.PROCESS_STATE_SIGNALED, done.getState());
        assertEquals(-9, done.getExitCode());
    }

    @Test
    void terminateReachesTheWholeGroup() throws Exception {
        // `sh -c 'sleep 1000 & sleep 1000'`, telling us the pids once both are forked.
        ProcessInfo p = spawn(cmd("sh", "-c", "sleep 1000 & a=$!; sleep 1000 & echo $a $!; wait"));
        String line = firstLine(p.getId());
        List<Integer> sleeps = java.util.Arrays.stream(line.trim().split(" ")).map(Integer::valueOf).toList();
        assertEquals(2, sleeps.size());
        forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId())
                .setKind(SignalKind.SIGNAL_KIND_TERMINATE).build());
        ProcessInfo done = join(p.getId());
        assertEquals(-15, done.getExitCode());
        for (int pid : sleeps) {
            Eventually.await(java.time.Duration.ofSeconds(10), () -> Procs.gone(pid),
                    () -> "sleep " + pid + " still there: " + Procs.stat(pid));
        }
        assertEquals(List.of(), Procs.inGroup(p.getPid()));
    }

    @Test
    void whatIsLeftOfTheGroupDiesWithTheLeader() throws Exception {
        ProcessInfo p = spawn(cmd("sh", "-c", "sleep 1000 & echo $!"));
        ProcessInfo done = join(p.getId());
        assertEquals(0, done.getExitCode());
        int sleep = Integer.parseInt(forkd.output(p.getId()).trim());
        Eventually.await(java.time.Duration.ofSeconds(10), () -> Procs.gone(sleep),
                () -> "the background sleep outlived its leader: " + Procs.stat(sleep));
    }

    /** Follows a process's output until its first newline. */
    private static String firstLine(String id) throws Exception {
        try (var ctx = io.grpc.Context.current().withCancellation()) {
            return ctx.call(() -> {
                Iterator<WatchProcessResponse> it = forkd.processes().watch(
                        WatchProcessRequest.newBuilder().setName(id).setFollow(true).build());
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                while (it.hasNext()) {
                    WatchProcessResponse w = it.next();
                    if (w.hasOutput()) {
                        b.writeBytes(w.getOutput().getData().toByteArray());
                        String s = b.toString(StandardCharsets.UTF_8);
                        if (s.contains("\n")) {
                            return s.substring(0, s.indexOf('\n'));
                        }
                    }
                }
                throw new AssertionError("no line from " + id);
            });
        }
    }

    @Test
    void missingProgramIsNotFoundAndLeavesNothing() {
        var e = assertThrows(StatusRuntimeException.class, () -> spawn(cmd("no-such-program-xyz").setName("ghost")));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("no-such-program-xyz"), e.getStatus().getDescription());
        assertEquals("PROGRAM_NOT_FOUND", reason(e));
        var none = forkd.processes().list(ListProcessesRequest.newBuilder().setName("ghost").build());
        assertEquals(0, none.getProcessesCount());
    }

    @Test
    void badCwdAndNonExecutableAreFailedPrecondition() {
        var e = assertThrows(StatusRuntimeException.class, () -> spawn(cmd("true").setCwd("/no/such/dir")));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        var e2 = assertThrows(StatusRuntimeException.class, () -> spawn(cmd("/etc/hostname")));
        assertEquals(Status.Code.FAILED_PRECONDITION, e2.getStatus().getCode());
    }

    @Test
    void joinWithTimeoutReturnsTheRunningProcess() {
        ProcessInfo p = spawn(cmd("sleep", "1000"));
        JoinProcessResponse r = forkd.processes().join(JoinProcessRequest.newBuilder().setName(p.getId())
                .setTimeout(Duration.newBuilder().setNanos(200_000_000)).build());
        assertTrue(r.getTimedOut());
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, r.getProcess().getState());
        assertTrue(r.getProcess().getIsAlive());
        forkd.processes().signal(SignalRequest.newBuilder().setName(p.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        assertEquals(-9, join(p.getId()).getExitCode());
    }

    @Test
    void twoHundredConcurrentSpawnsAllJoin() throws Exception {
        List<CompletableFuture<ProcessInfo>> joins = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int code = i % 7;
            CompletableFuture<dev.forkd.v1.SpawnResponse> f = new CompletableFuture<>();
            forkd.processesAsync().spawn(cmd("sh", "-c", "exit " + code).build(), observer(f));
            joins.add(f.thenApply(dev.forkd.v1.SpawnResponse::getProcess));
        }
        // Each spawn answers; then join all of them at once.
        List<CompletableFuture<JoinProcessResponse>> done = new ArrayList<>();
        for (var f : joins) {
            ProcessInfo p = f.get(60, TimeUnit.SECONDS);
            CompletableFuture<JoinProcessResponse> j = new CompletableFuture<>();
            forkd.processesAsync().join(JoinProcessRequest.newBuilder().setName(p.getId()).build(), observer(j));
            done.add(j);
        }
        for (int i = 0; i < done.size(); i++) {
            ProcessInfo p = done.get(i).get(60, TimeUnit.SECONDS).getProcess();
            assertEquals(i % 7, p.getExitCode(), p.toString());
        }
    }

    @Test
    void hundredMebibytesStreamIntactAndResumeFromAnOffset() throws Exception {
        long size = 100L * 1024 * 1024;
        ProcessInfo p = spawn(cmd("sh", "-c", "f=$(mktemp); head -c " + size + " /dev/urandom > $f; cat $f;"
                + " md5sum < $f >&2; rm -f $f")
                .setOutputLimitBytes(512L * 1024 * 1024));
        // A watcher following live checksums stdout as it arrives.
        var md5 = java.security.MessageDigest.getInstance("MD5");
        long got = 0;
        long lastOffset = -1;
        ByteArrayOutputStream stderrTail = new ByteArrayOutputStream();
        ProcessInfo last = null;
        Iterator<WatchProcessResponse> it = forkd.processes().withDeadlineAfter(120, TimeUnit.SECONDS)
                .watch(WatchProcessRequest.newBuilder().setName(p.getId()).setFollow(true).build());
        while (it.hasNext()) {
            WatchProcessResponse w = it.next();
            if (w.hasOutput()) {
                assertTrue(w.getOutput().getOffset() > lastOffset);
                lastOffset = w.getOutput().getOffset();
                if (w.getOutput().getStream() == dev.forkd.v1.OutputStream.OUTPUT_STREAM_STDOUT) {
                    w.getOutput().getData().asReadOnlyByteBufferList().forEach(md5::update);
                    got += w.getOutput().getData().size();
                }
            } else if (w.hasState()) {
                last = w.getState();
            }
        }
        assertEquals(size, got);
        assertEquals(ProcessState.PROCESS_STATE_EXITED, last.getState());
        // The stderr carries the md5sum line from inside the pipeline; it ends the stream.
        String tail = lastLine(p.getId(), last.getOutputEndOffset());
        assertEquals(tail.substring(0, 32), java.util.HexFormat.of().formatHex(md5.digest()));

        // Resume from an offset near the end: exactly the rest comes back.
        long from = last.getOutputEndOffset() - 1000;
        long resumed = 0;
        Iterator<WatchProcessResponse> again = forkd.processes().watch(WatchProcessRequest.newBuilder().setName(p.getId())
                .setFromOffset(from).build());
        long expect = from;
        while (again.hasNext()) {
            WatchProcessResponse w = again.next();
            if (w.hasOutput()) {
                assertEquals(expect, w.getOutput().getOffset());
                expect += w.getOutput().getData().size();
                resumed += w.getOutput().getData().size();
            }
        }
        assertEquals(1000, resumed);
        forkd.processes().delete(DeleteProcessRequest.newBuilder().setName(p.getId()).build());
    }

    private static String lastLine(String id, long end) {
        Iterator<WatchProcessResponse> it = forkd.processes().watch(WatchProcessRequest.newBuilder().setName(id)
                .setFromOffset(end - 64).build());
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (it.hasNext()) {
            WatchProcessResponse w = it.next();
            if (w.hasOutput() && w.getOutput().getStream() == dev.forkd.v1.OutputStream.OUTPUT_STREAM_STDERR) {
                b.writeBytes(w.getOutput().getData().toByteArray());
            }
        }
        String s = b.toString(StandardCharsets.ISO_8859_1);
        String[] lines = s.split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void aHoldingWatcherLosesNothingPastTheCap() throws Exception {
        long size = 32L * 1024 * 1024;
        // The cap is 1 MiB: without holding, a watcher this far behind would be told of gaps.
        // The child writes only once told to: output written before a watcher is there is not
        // held, and a fast agent can pass the cap before a Watch sent after the Spawn arrives.
        ProcessInfo p = spawn(cmd("sh", "-c", "read go && exec head -c " + size + " /dev/zero")
                .setStdinMode(StdinMode.STDIN_MODE_PIPE).setOutputLimitBytes(1024 * 1024));
        Iterator<WatchProcessResponse> it = forkd.processes().withDeadlineAfter(120, TimeUnit.SECONDS)
                .watch(WatchProcessRequest.newBuilder().setName(p.getId()).setFollow(true).setHoldOutput(true).build());
        // The first event comes once the watcher is registered as a holder.
        assertTrue(it.next().hasState());
        CompletableFuture<WriteStdinResponse> written = new CompletableFuture<>();
        StreamObserver<WriteStdinRequest> in = forkd.processesAsync().writeStdin(observer(written));
        in.onNext(WriteStdinRequest.newBuilder().setName(p.getId()).setData(ByteString.copyFromUtf8("go\n"))
                .setClose(true).build());
        in.onCompleted();
        long got = 0;
        ProcessInfo last = null;
        while (it.hasNext()) {
            WatchProcessResponse w = it.next();
            assertFalse(w.hasGap(), "a holding watcher was told of a gap: " + w.getGap());
            if (w.hasOutput()) {
                got += w.getOutput().getData().size();
            } else if (w.hasState()) {
                last = w.getState();
            }
        }
        assertEquals(size, got);
        assertEquals(0, last.getExitCode());
    }

    @Test
    void aSpawnWithHoldOutputKeepsEverythingUntilItsWatcherComes() throws Exception {
        long size = 8L * 1024 * 1024;
        ProcessInfo p = spawn(cmd("head", "-c", Long.toString(size), "/dev/zero")
                .setOutputLimitBytes(1024 * 1024).setHoldOutput(true));
        // No watcher yet: the child writes until the output is held, then blocks on its full pipe.
        // Without the hold it would write all 8 MiB and the log would keep only the last 1 MiB.
        Eventually.await(java.time.Duration.ofSeconds(60), () -> forkd.processes()
                .get(GetProcessRequest.newBuilder().setName(p.getId()).build()).getProcess().getOutputEndOffset() >= 512 * 1024,
                () -> "no output");
        Iterator<WatchProcessResponse> it = forkd.processes().withDeadlineAfter(120, TimeUnit.SECONDS)
                .watch(WatchProcessRequest.newBuilder().setName(p.getId()).setFollow(true).setHoldOutput(true).build());
        long got = 0;
        ProcessInfo last = null;
        while (it.hasNext()) {
            WatchProcessResponse w = it.next();
            assertFalse(w.hasGap(), () -> "the watcher the spawn held for was told of a gap: " + w.getGap());
            if (w.hasOutput()) {
                assertEquals(got, w.getOutput().getOffset());
                got += w.getOutput().getData().size();
            } else if (w.hasState()) {
                last = w.getState();
            }
        }
        assertEquals(size, got);
        assertEquals(0, last.getExitCode());
        forkd.processes().delete(DeleteProcessRequest.newBuilder().setName(p.getId()).build());
    }

    @Test
    void lastOutputOfAFastExitIsNeverLost() {
        for (int i = 0; i < 20; i++) {
            ProcessInfo p = spawn(cmd("sh", "-c", "echo line-" + i));
            // Follow from the start: the last line must arrive before the end state.
            assertEquals("line-" + i + "\n", forkd.output(p.getId()));
        }
    }

    @Test
    void getListAndDelete() {
        ProcessInfo p = spawn(cmd("true").setName("named-true").putLabels("team", "a"));
        join(p.getId());
        assertEquals(p.getId(), forkd.processes().get(GetProcessRequest.newBuilder().setName("named-true").build()).getProcess().getId());
        var list = forkd.processes().list(ListProcessesRequest.newBuilder().putLabels("team", "a").build());
        assertEquals(1, list.getProcessesCount());
        forkd.processes().delete(DeleteProcessRequest.newBuilder().setName("named-true").build());
        var e = assertThrows(StatusRuntimeException.class,
                () -> forkd.processes().get(GetProcessRequest.newBuilder().setName(p.getId()).build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }
}
