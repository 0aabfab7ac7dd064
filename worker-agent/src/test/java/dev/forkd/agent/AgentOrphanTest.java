package dev.forkd.agent;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentShutdown;
import dev.forkd.agent.v1.RunningChild;
import dev.forkd.agent.v1.StartChild;
import dev.forkd.agent.v1.SupervisorMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real agent whose supervisor goes away: it keeps its children, holds their output and exits, and
 * hands them to the next supervisor on the same address; or, with no supervisor back within its
 * orphan grace or one that refuses it, it stops its children and exits.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AgentOrphanTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String TOKEN = "orphan-token";
    private static final Map<String, String> ENV = Map.of("PATH", "/usr/local/bin:/usr/bin:/bin");

    @TempDir
    Path dir;
    /** The children started: a test that fails half-way must leave none running (their agent may be killed). */
    private final List<Integer> children = new ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void killLeftovers() {
        for (int pid : children) {
            ProcessHandle.of(pid).ifPresent(p -> {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            });
        }
    }

    private static SupervisorMessage start(String id, String script) {
        return SupervisorMessage.newBuilder().setStart(StartChild.newBuilder().setProcessId(id).setRun(0)
                .addAllArgv(List.of("sh", "-c", script)).putAllEnv(ENV)).build();
    }

    private AgentMessage next(FakeSupervisor supervisor, AgentMessage.EventCase kind) throws Exception {
        AgentMessage m = supervisor.next(WAIT);
        assertEquals(kind, m.getEventCase(), "got " + m);
        if (m.hasStarted()) {
            children.add(m.getStarted().getPid());
        }
        return m;
    }

    @Test
    void anExitSentAsTheSupervisorDiedIsNamedInTheNextRegistration() throws Exception {
        // The exit reached the old supervisor's socket, but it may have died before applying it: the
        // registration names the child, so the next supervisor claims its record at once instead of
        // declaring it LOST before the replayed exit arrives (found by the restart chaos test).
        Path socket = dir.resolve("forkd.sock");
        FakeSupervisor first = FakeSupervisor.onUnixSocket(socket, TOKEN);
        try (AgentProcess agent = new AgentProcess("unix:" + socket, "a-1", 4, TOKEN, dir.resolve("agent.log"),
                Duration.ofSeconds(60))) {
            next(first, AgentMessage.EventCase.REGISTER);
            first.send(start("quick", "exit 27"));
            next(first, AgentMessage.EventCase.STARTED);
            AgentMessage exited;
            do {
                exited = first.next(WAIT);
            } while (!exited.hasExited());
            assertEquals(27, exited.getExited().getExitCode());
            first.close(); // the supervisor dies before applying it
            Files.deleteIfExists(socket);
            awaitLogLine(agent, "supervisor gone");

            try (FakeSupervisor second = FakeSupervisor.onUnixSocket(socket, TOKEN)) {
                var register = next(second, AgentMessage.EventCase.REGISTER).getRegister();
                List<String> named = register.getRunningList().stream()
                        .map(c -> c.getProcessId() + "/" + c.getRun() + "/" + c.getPid()).toList();
                assertEquals(List.of("quick/0/0"), named, "the ended child is named, with no pid");
                second.send(SupervisorMessage.newBuilder().setShutdown(AgentShutdown.newBuilder()
                        .setGrace(com.google.protobuf.Duration.newBuilder().setSeconds(1))).build());
                assertEquals(0, agent.awaitExit(WAIT), "agent exit code; log:\n" + agent.log());
            }
        }
    }

    @Test
    void keepsItsChildrenAndReportsWhatHappenedToTheNextSupervisor() throws Exception {
        Path socket = dir.resolve("forkd.sock");
        Path fifo = dir.resolve("go");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        FakeSupervisor first = FakeSupervisor.onUnixSocket(socket, TOKEN);
        try (AgentProcess agent = new AgentProcess("unix:" + socket, "a-1", 4, TOKEN, dir.resolve("agent.log"),
                Duration.ofSeconds(60))) {
            int agentPid = next(first, AgentMessage.EventCase.REGISTER).getRegister().getPid();
            first.send(start("long", "echo up; exec sleep 1000"));
            int longPid = next(first, AgentMessage.EventCase.STARTED).getStarted().getPid();
            assertEquals("up\n", next(first, AgentMessage.EventCase.OUTPUT).getOutput().getData().toStringUtf8());
            first.send(start("short", "read x < " + fifo + "; echo bye; exit 7"));
            int shortPid = next(first, AgentMessage.EventCase.STARTED).getStarted().getPid();

            first.close(); // the supervisor is gone
            Files.deleteIfExists(socket);
            // What is written into a stream as it breaks may be lost (starts and exits are sent
            // again); here the child ends once the agent knows it is alone, so all of it is held.
            awaitLogLine(agent, "supervisor gone");
            // The short child ends while no supervisor listens: its output and exit are held.
            Files.writeString(fifo, "go\n", StandardCharsets.UTF_8);
            ProcessHandle.of(shortPid).ifPresent(p -> p.onExit().orTimeout(20, TimeUnit.SECONDS).join());
            assertTrue(ProcessHandle.of(longPid).map(ProcessHandle::isAlive).orElse(false), "long child kept");

            try (FakeSupervisor second = FakeSupervisor.onUnixSocket(socket, TOKEN)) {
                var register = next(second, AgentMessage.EventCase.REGISTER).getRegister();
                assertEquals(agentPid, register.getPid());
                assertEquals(AgentProcess.AGENT_SECRET, register.getSecret());
                List<String> running = new ArrayList<>();
                for (RunningChild c : register.getRunningList()) {
                    running.add(c.getProcessId() + "/" + c.getRun() + "/" + (c.getProcessId().equals("long") ? c.getPid() : 0));
                }
                assertTrue(running.contains("long/0/" + longPid), "running: " + running);
                assertTrue(running.contains("short/0/0"), "short is reported, its exit held: " + running);
                // Then what may have been lost with the old stream, then what was held: short's output, its exit.
                StringBuilder shortOut = new StringBuilder();
                int exitCode = Integer.MIN_VALUE;
                while (exitCode == Integer.MIN_VALUE) {
                    AgentMessage m = second.next(WAIT);
                    if (m.hasOutput() && m.getOutput().getProcessId().equals("short")) {
                        shortOut.append(m.getOutput().getData().toStringUtf8());
                    } else if (m.hasExited() && m.getExited().getProcessId().equals("short")) {
                        exitCode = m.getExited().getExitCode();
                    }
                }
                assertEquals("bye\n", shortOut.toString());
                assertEquals(7, exitCode);
                assertTrue(ProcessHandle.of(longPid).map(ProcessHandle::isAlive).orElse(false), "long child still runs");

                second.send(SupervisorMessage.newBuilder().setShutdown(AgentShutdown.newBuilder()
                        .setGrace(com.google.protobuf.Duration.newBuilder().setSeconds(1))).build());
                assertEquals(0, agent.awaitExit(WAIT), "agent exit code; log:\n" + agent.log());
                ProcessHandle.of(longPid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
            }
        }
    }

    @Test
    void dialsTheNextSupervisorWhenItsSocketAppearsNotAtTheNextBackoffStep() throws Exception {
        // Back-off of ten minutes from the first step: only the socket's creation can bring the
        // agent back within the test's wait.
        Path socket = dir.resolve("forkd.sock");
        FakeSupervisor first = FakeSupervisor.onUnixSocket(socket, TOKEN);
        try (AgentProcess agent = new AgentProcess("unix:" + socket, "a-1", 4, TOKEN, dir.resolve("agent.log"),
                Duration.ofMinutes(30), List.of("--redial-first-millis", "600000", "--redial-max-millis", "600000"))) {
            int agentPid = next(first, AgentMessage.EventCase.REGISTER).getRegister().getPid();
            first.send(start("long", "exec sleep 1000"));
            int longPid = next(first, AgentMessage.EventCase.STARTED).getStarted().getPid();
            first.close();
            Files.deleteIfExists(socket);
            awaitLogLine(agent, "supervisor gone");
            try (FakeSupervisor second = FakeSupervisor.onUnixSocket(socket, TOKEN)) {
                var register = next(second, AgentMessage.EventCase.REGISTER).getRegister();
                assertEquals(agentPid, register.getPid());
                assertTrue(register.getRunningList().stream().anyMatch(c -> c.getPid() == longPid),
                        "the kept child is reported: " + register.getRunningList());
                assertTrue(agent.log().contains("socket appeared"), agent.log());
                second.send(SupervisorMessage.newBuilder().setShutdown(AgentShutdown.newBuilder()
                        .setGrace(com.google.protobuf.Duration.newBuilder().setSeconds(1))).build());
                assertEquals(0, agent.awaitExit(WAIT), "agent exit code; log:\n" + agent.log());
                ProcessHandle.of(longPid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
            }
        }
    }

    /** Waits (bounded) for the agent to log {@code text}: the agent says it, nothing else tells. */
    private static void awaitLogLine(AgentProcess agent, String text) throws Exception {
        long end = System.nanoTime() + WAIT.toNanos();
        while (!agent.log().contains(text)) {
            assertTrue(System.nanoTime() < end, "agent never logged \"" + text + "\":\n" + agent.log());
            Thread.sleep(20);
        }
    }

    @Test
    void stopsItsChildrenAndExitsWhenNoSupervisorComesBackWithinTheGrace() throws Exception {
        Path socket = dir.resolve("forkd.sock");
        FakeSupervisor supervisor = FakeSupervisor.onUnixSocket(socket, TOKEN);
        try (AgentProcess agent = new AgentProcess("unix:" + socket, "a-1", 4, TOKEN, dir.resolve("agent.log"),
                Duration.ofSeconds(2))) {
            next(supervisor, AgentMessage.EventCase.REGISTER);
            supervisor.send(start("long", "sleep 1000 & exec sleep 1000"));
            int longPid = next(supervisor, AgentMessage.EventCase.STARTED).getStarted().getPid();
            List<ProcessHandle> everyone = ProcessHandle.of(longPid).orElseThrow().descendants().toList();
            supervisor.close();
            assertEquals(1, agent.awaitExit(WAIT), "agent exit code; log:\n" + agent.log());
            ProcessHandle.of(longPid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
            for (ProcessHandle p : everyone) {
                p.onExit().get(10, TimeUnit.SECONDS);
            }
            assertTrue(agent.log().contains("orphan grace"), agent.log());
        } finally {
            supervisor.close();
        }
    }

    @Test
    void aSupervisorThatRefusesItEndsTheGraceAtOnce() throws Exception {
        Path socket = dir.resolve("forkd.sock");
        FakeSupervisor first = FakeSupervisor.onUnixSocket(socket, TOKEN);
        try (AgentProcess agent = new AgentProcess("unix:" + socket, "a-1", 4, TOKEN, dir.resolve("agent.log"),
                Duration.ofMinutes(10))) {
            next(first, AgentMessage.EventCase.REGISTER);
            first.send(start("long", "exec sleep 1000"));
            int longPid = next(first, AgentMessage.EventCase.STARTED).getStarted().getPid();
            first.close();
            Files.deleteIfExists(socket);
            // A supervisor that does not know this agent (here: another token) refuses it.
            try (FakeSupervisor other = FakeSupervisor.onUnixSocket(socket, "another-token")) {
                assertEquals(1, agent.awaitExit(WAIT), "agent exit code; log:\n" + agent.log());
                ProcessHandle.of(longPid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
            }
        }
    }
}
