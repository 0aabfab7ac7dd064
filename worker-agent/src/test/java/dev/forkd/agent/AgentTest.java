package dev.forkd.agent;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.ByteString;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentShutdown;
import dev.forkd.agent.v1.ChildExited;
import dev.forkd.agent.v1.ChildOutput;
import dev.forkd.v1.OutputStream;
import dev.forkd.agent.v1.SignalChild;
import dev.forkd.agent.v1.StartChild;
import dev.forkd.agent.v1.StartFailure;
import dev.forkd.agent.v1.StdinWritten;
import dev.forkd.agent.v1.SupervisorMessage;
import dev.forkd.agent.v1.WriteChildStdin;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real agent process against a fake supervisor on a Unix socket, running real children. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String TOKEN = "s3cret-token";
    private static final int CAPACITY = 4;
    private static final Map<String, String> ENV = Map.of("PATH", "/usr/local/bin:/usr/bin:/bin");

    @TempDir
    Path dir;
    private FakeSupervisor supervisor;
    private AgentProcess agent;
    private int pid;

    @BeforeEach
    void startAgent() throws Exception {
        Path socket = dir.resolve("forkd.sock");
        supervisor = FakeSupervisor.onUnixSocket(socket, TOKEN);
        agent = new AgentProcess("unix:" + socket, "agent-1", CAPACITY, TOKEN, dir.resolve("agent.log"));
        AgentMessage first = supervisor.next(WAIT);
        assertTrue(first.hasRegister(), "first message is Register: " + first);
        pid = first.getRegister().getPid();
    }

    @AfterEach
    void stopAgent() throws Exception {
        try {
            if (agent.isAlive()) {
                agent.assertNoChildrenWithin(Duration.ofSeconds(10));
                supervisor.send(SupervisorMessage.newBuilder()
                        .setShutdown(AgentShutdown.newBuilder().setGrace(com.google.protobuf.Duration.newBuilder().setSeconds(1))).build());
                assertEquals(0, agent.awaitExit(WAIT), "agent exit code; log:\n" + agent.log());
            }
        } finally {
            agent.close();
            supervisor.close();
        }
    }

    private static SupervisorMessage start(String id, boolean stdinPipe, String... argv) {
        return start(id, "", stdinPipe, argv);
    }

    private static SupervisorMessage start(String id, String cwd, boolean stdinPipe, String... argv) {
        return SupervisorMessage.newBuilder().setStart(StartChild.newBuilder().setProcessId(id).setRun(0)
                .addAllArgv(List.of(argv)).putAllEnv(ENV).setCwd(cwd).setStdinPipe(stdinPipe)).build();
    }

    private static SupervisorMessage stdin(String id, String data, boolean close) {
        return SupervisorMessage.newBuilder().setStdin(WriteChildStdin.newBuilder().setProcessId(id).setRun(0)
                .setData(ByteString.copyFromUtf8(data)).setClose(close)).build();
    }

    private static SupervisorMessage signal(String id, int signal) {
        return SupervisorMessage.newBuilder().setSignal(SignalChild.newBuilder().setProcessId(id).setRun(0)
                .setSignal(signal)).build();
    }

    private int started(String id) throws Exception {
        AgentMessage m = supervisor.next(WAIT);
        assertTrue(m.hasStarted(), "expected Started, got " + m + "\nlog:\n" + agent.log());
        assertEquals(id, m.getStarted().getProcessId());
        return m.getStarted().getPid();
    }

    /** Collects a child's output until its ChildExited, checking nothing of it follows the exit. */
    private record Finished(ByteArrayOutputStream stdout, ByteArrayOutputStream stderr, int exitCode) {
    }

    private Finished collectUntilExit(String id) throws Exception {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        while (true) {
            AgentMessage m = supervisor.next(WAIT);
            switch (m.getEventCase()) {
                case OUTPUT -> {
                    ChildOutput o = m.getOutput();
                    assertEquals(id, o.getProcessId());
                    (o.getStream() == OutputStream.OUTPUT_STREAM_STDOUT ? out : err)
                            .writeBytes(o.getData().toByteArray());
                }
                case EXITED -> {
                    ChildExited e = m.getExited();
                    assertEquals(id, e.getProcessId());
                    return new Finished(out, err, e.getExitCode());
                }
                default -> throw new AssertionError("unexpected " + m);
            }
        }
    }

    @Test
    void registersWithPidCapacityAndTokenThenSendsHeartbeats() throws Exception {
        assertEquals(agent.pid(), pid);
        assertEquals(TOKEN, supervisor.tokenSeen());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        // A heartbeat every 500 ms (--heartbeat-millis): wait for one without taking other events.
        while (supervisor.heartbeats() == 0 && System.nanoTime() < deadline) {
            assertTrue(supervisor.nothingWithin(Duration.ofMillis(500)));
        }
        assertTrue(supervisor.heartbeats() > 0, "no heartbeat within 10 s");
    }

    @Test
    void startedThenOutputThenExitedInThatOrder() throws Exception {
        supervisor.send(start("p1", false, "sh", "-c", "echo hi; echo oops >&2; exit 3"));
        int childPid = started("p1");
        assertTrue(childPid > 0);
        Finished f = collectUntilExit("p1");
        assertEquals("hi\n", f.stdout().toString());
        assertEquals("oops\n", f.stderr().toString());
        assertEquals(3, f.exitCode());
        assertTrue(ProcessHandle.of(childPid).isEmpty(), "the child is reaped before ChildExited");
    }

    @Test
    void startFailuresSayWhy() throws Exception {
        supervisor.send(start("missing", false, "nosuch-program"));
        AgentMessage m = supervisor.next(WAIT);
        assertEquals(StartFailure.START_FAILURE_NOT_FOUND, m.getStartFailed().getReason());
        assertEquals("program \"nosuch-program\" not found in PATH", m.getStartFailed().getMessage());

        supervisor.send(start("badcwd", "/nope", false, "true"));
        m = supervisor.next(WAIT);
        assertEquals(StartFailure.START_FAILURE_BAD_CWD, m.getStartFailed().getReason());
        assertEquals("cwd \"/nope\" is not a directory", m.getStartFailed().getMessage());

        supervisor.send(start("noexec", false, "/etc/passwd"));
        m = supervisor.next(WAIT);
        assertEquals(StartFailure.START_FAILURE_NOT_EXECUTABLE, m.getStartFailed().getReason());
        assertEquals("\"/etc/passwd\" is not executable", m.getStartFailed().getMessage());

        supervisor.send(start("abs-missing", false, "/no/such/program"));
        m = supervisor.next(WAIT);
        assertEquals(StartFailure.START_FAILURE_NOT_FOUND, m.getStartFailed().getReason());
    }

    @Test
    void sigtermReachesTheWholeGroup() throws Exception {
        supervisor.send(start("g", false, "sh", "-c", "sleep 1000 & echo ready; sleep 1000"));
        int childPid = started("g");
        AgentMessage ready = supervisor.next(WAIT);
        assertEquals("ready\n", ready.getOutput().getData().toStringUtf8());
        List<ProcessHandle> group = ProcessHandle.of(childPid).orElseThrow().descendants().toList();
        assertFalse(group.isEmpty(), "the background sleep exists");

        supervisor.send(signal("g", 15));
        Finished f = collectUntilExit("g");
        assertEquals(-15, f.exitCode());
        for (ProcessHandle p : group) {
            p.onExit().get(10, TimeUnit.SECONDS);
        }
        assertTrue(ProcessHandle.of(childPid).isEmpty());
    }

    @Test
    void tenMebibytesArriveIntact() throws Exception {
        byte[] data = new byte[10 << 20];
        new Random(42).nextBytes(data);
        Path file = Files.write(dir.resolve("data.bin"), data);
        supervisor.send(start("big", false, "cat", file.toString()));
        started("big");
        Finished f = collectUntilExit("big");
        assertEquals(0, f.exitCode());
        assertEquals(data.length, f.stdout().size());
        assertEquals(sha256(data), sha256(f.stdout().toByteArray()));
    }

    @Test
    void hundredMebibytesOfStdoutStreamFast() throws Exception {
        long size = 100L << 20;
        supervisor.send(start("fast", false, "head", "-c", String.valueOf(size), "/dev/zero"));
        long t0 = System.nanoTime();
        started("fast");
        long total = 0;
        long chunks = 0;
        while (true) {
            AgentMessage m = supervisor.next(WAIT);
            if (m.hasExited()) {
                assertEquals(0, m.getExited().getExitCode());
                break;
            }
            total += m.getOutput().getData().size();
            chunks++;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("100 MiB of child stdout through the agent: %.0f MB/s in %d chunks%n",
                size / seconds / 1e6, chunks);
        assertEquals(size, total);
    }

    @Test
    void stdinRoundTripsThroughCatAndCloseGivesEof() throws Exception {
        supervisor.send(start("cat", true, "cat"));
        started("cat");
        supervisor.send(stdin("cat", "hello\n", false));
        AgentMessage written = supervisor.next(WAIT);
        assertEquals(StdinWritten.newBuilder().setProcessId("cat").setBytes(6).build(), written.getStdinWritten());
        assertEquals("hello\n", supervisor.next(WAIT).getOutput().getData().toStringUtf8());

        supervisor.send(stdin("cat", "bye\n", true));
        assertEquals(StdinWritten.newBuilder().setProcessId("cat").setBytes(4).setClosed(true).build(),
                supervisor.next(WAIT).getStdinWritten());
        Finished f = collectUntilExit("cat");
        assertEquals("bye\n", f.stdout().toString());
        assertEquals(0, f.exitCode());
    }

    @Test
    void stdinToAChildThatClosedItSaysSo() throws Exception {
        supervisor.send(start("closer", true, "sh", "-c", "exec 0<&-; echo closed; exec sleep 1000"));
        started("closer");
        assertEquals("closed\n", supervisor.next(WAIT).getOutput().getData().toStringUtf8());
        supervisor.send(stdin("closer", "x", false));
        assertEquals("child closed its stdin", supervisor.next(WAIT).getStdinWritten().getError());
        supervisor.send(signal("closer", 9));
        assertEquals(-9, collectUntilExit("closer").exitCode());
    }

    @Test
    void startsBeyondCapacityAreRefused() throws Exception {
        for (int i = 0; i < CAPACITY; i++) {
            supervisor.send(start("s" + i, false, "sleep", "1000"));
            started("s" + i);
        }
        supervisor.send(start("one-too-many", false, "true"));
        AgentMessage m = supervisor.next(WAIT);
        assertEquals(StartFailure.START_FAILURE_RESOURCES, m.getStartFailed().getReason());
        for (int i = 0; i < CAPACITY; i++) {
            supervisor.send(signal("s" + i, 9));
            assertEquals(-9, collectUntilExit("s" + i).exitCode());
        }
    }

    @Test
    void anEscapedGrandchildIsEndedOnceItsLeaderExits() throws Exception {
        // setsid takes the grandchild out of the group, so the group kill misses it, and it keeps
        // stdout open. Once the leader has ended, the grandchild (now the agent's orphan) belongs
        // to nothing that runs: the agent ends it, so the exit comes at once and nothing is left.
        // The leader waits (on a fifo) until the grandchild has left the group, or the group kill
        // could catch it first.
        int grandchild = escapeAndExit("esc", "");
        assertEndedWithin(grandchild, Duration.ofSeconds(10));
        agent.assertNoChildrenWithin(Duration.ofSeconds(10));
    }

    @Test
    void anEscapedGrandchildThatIgnoresSigtermIsKilledAfterTheGrace() throws Exception {
        int grandchild = escapeAndExit("stubborn-esc", "trap '' TERM; ");
        assertEndedWithin(grandchild, Duration.ofSeconds(10));
        agent.assertNoChildrenWithin(Duration.ofSeconds(10));
    }

    /** Starts a leader whose grandchild escapes with setsid and sleeps; returns its pid after the exit. */
    private int escapeAndExit(String id, String grandchildPrologue) throws Exception {
        supervisor.send(start(id, false, "sh", "-c", "f=$(mktemp -u); mkfifo $f; setsid sh -c \""
                + grandchildPrologue + "echo \\$\\$; echo > $f; exec sleep 1000\" & read x < $f; rm -f $f"));
        started(id);
        long t0 = System.nanoTime();
        Finished f = collectUntilExit(id);
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, f.exitCode(), "log:\n" + agent.log());
        assertTrue(millis < 5500, "exit reported after " + millis + " ms");
        return Integer.parseInt(f.stdout().toString().strip());
    }

    @Test
    void shutdownEndsAnOrphanWhoseLeaderStillRuns() throws Exception {
        // The subshell that started it has ended, so the orphan is the agent's; no child of the
        // agent has ended since, so only the shutdown finds it.
        supervisor.send(start("runs-on", false, "sh", "-c", "f=$(mktemp -u); mkfifo $f;"
                + " (setsid sh -c \"echo \\$\\$; echo > $f; exec sleep 1000\" &); read x < $f; rm -f $f;"
                + " echo ready; exec sleep 1000"));
        started("runs-on");
        var out = new StringBuilder();
        while (!out.toString().contains("ready")) {
            out.append(supervisor.next(WAIT).getOutput().getData().toStringUtf8());
        }
        int orphan = Integer.parseInt(out.toString().lines().findFirst().orElseThrow().strip());
        assertTrue(ProcessHandle.of(orphan).isPresent(), "the orphan runs until the shutdown");
        supervisor.send(SupervisorMessage.newBuilder()
                .setShutdown(AgentShutdown.newBuilder().setGrace(com.google.protobuf.Duration.newBuilder().setNanos(300 * 1_000_000))).build());
        assertEquals(-15, collectUntilExit("runs-on").exitCode());
        assertEquals(0, agent.awaitExit(WAIT), "log:\n" + agent.log());
        assertEndedWithin(orphan, Duration.ofSeconds(10));
    }

    /** Gone, or a zombie waiting for whoever adopted it: either way it no longer runs. */
    private static void assertEndedWithin(int pid, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            String stat;
            try {
                stat = java.nio.file.Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            } catch (java.io.IOException gone) {
                return;
            }
            if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "pid " + pid + " still runs: " + stat);
            Thread.sleep(20);
        }
    }

    @Test
    void shutdownTermsThenKillsAfterTheGraceAndExitsZero() throws Exception {
        supervisor.send(start("stubborn", false, "sh", "-c", "trap '' TERM; echo ready; sleep 1000"));
        started("stubborn");
        assertEquals("ready\n", supervisor.next(WAIT).getOutput().getData().toStringUtf8());
        supervisor.send(SupervisorMessage.newBuilder()
                .setShutdown(AgentShutdown.newBuilder().setGrace(com.google.protobuf.Duration.newBuilder().setNanos(300 * 1_000_000))).build());
        assertEquals(-9, collectUntilExit("stubborn").exitCode());
        assertEquals(Status.OK, supervisor.agentStreamEnded().get(20, TimeUnit.SECONDS));
        assertEquals(0, agent.awaitExit(WAIT));
    }

    @Test
    void aCancelledStreamMakesTheAgentKillItsChildrenAndExit() throws Exception {
        supervisor.send(start("orphan-to-be", false, "sh", "-c", "sleep 1000 & echo ready; sleep 1000"));
        int childPid = started("orphan-to-be");
        supervisor.next(WAIT);
        List<ProcessHandle> everyone = ProcessHandle.of(childPid).orElseThrow().descendants().toList();
        supervisor.cancelStream();
        assertEquals(1, agent.awaitExit(WAIT), "agent exit code; log:\n" + agent.log());
        ProcessHandle.of(childPid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
        for (ProcessHandle p : everyone) {
            p.onExit().get(10, TimeUnit.SECONDS);
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
