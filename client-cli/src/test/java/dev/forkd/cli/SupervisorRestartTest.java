package dev.forkd.cli;

import static dev.forkd.cli.ServerIncarnations.spawn;
import static dev.forkd.cli.ServerIncarnations.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A supervisor that crashes (SIGKILL) or exits with {@code --restart-keep} leaves its agents and
 * children running; the next {@code forkd serve} on the same state directory adopts them: a child
 * still running is RUNNING with the same pid, one that ended meanwhile has its real exit code, and a
 * final SIGTERM stops everything, adopted agents included.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SupervisorRestartTest {

    private static final Function<Path, List<String>> ARGS = ServerIncarnations.ARGS;

    @RegisterExtension
    final ServerIncarnations runs = new ServerIncarnations();

    @Test
    void childrenOfAKilledSupervisorRunOnUnderTheNextOne() throws Exception {
        Path shortGo = runs.fifo("short-go");
        Path longGo = runs.fifo("long-go");
        RunningServer first = runs.start(ARGS);
        Cli cli = Cli.against(first);
        String longId = spawn(cli, "sh", "-c", "echo hello; read x < " + longGo + "; echo again; exec sleep 1000");
        String shortId = spawn(cli, "sh", "-c", "read x < " + shortGo + "; echo bye; exit 7");
        ProcessInfo longBefore = get(cli, longId);
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, longBefore.getState());
        List<ProcessHandle> agents = agentsBelow(first);
        assertTrue(!agents.isEmpty(), "no agent below the server");
        // Ctrl-C in a terminal signals the foreground process group: the agents are not in it.
        for (ProcessHandle agent : agents) {
            assertNotEquals(groupOf(first.process.pid()), groupOf(agent.pid()), "agent in the supervisor's group");
        }
        runs.everything().addAll(first.descendants());

        first.process.destroyForcibly(); // SIGKILL: a crash
        assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));
        // The short child ends while no supervisor runs.
        Files.writeString(shortGo, "go\n", StandardCharsets.UTF_8);

        RunningServer second = runs.start(ARGS);
        try {
            Cli again = Cli.against(second);
            ProcessInfo longAfter = get(again, longId);
            assertEquals(ProcessState.PROCESS_STATE_RUNNING, longAfter.getState(), longAfter::toString);
            assertEquals(longBefore.getPid(), longAfter.getPid());
            assertEquals(7, again.run("wait", "--timeout", "30s", shortId).code(), "wait exits with its code");
            ProcessInfo shortAfter = get(again, shortId);
            assertEquals(ProcessState.PROCESS_STATE_EXITED, shortAfter.getState(), shortAfter::toString);
            assertEquals(7, shortAfter.getExitCode());
            // Output of the adopted child reaches the new supervisor's log.
            Files.writeString(longGo, "go\n", StandardCharsets.UTF_8);
            awaitLogs(again, longId, "again");
            // Ids go on after the highest kept one: never reused.
            String next = spawn(again, "true");
            assertTrue(Long.parseLong(next.substring(2)) > Long.parseLong(shortId.substring(2)), next);
            runs.everything().addAll(second.descendants());
        } finally {
            second.close(); // SIGTERM: stops its own agents and the adopted ones, with their children
        }
        assertAllEnd(runs.everything());
    }

    @Test
    void restartKeepLeavesTheChildrenForTheNextSupervisor() throws Exception {
        Function<Path, List<String>> keep = d -> {
            List<String> args = new ArrayList<>(ARGS.apply(d));
            args.add("--restart-keep");
            return args;
        };
        RunningServer first = runs.start(keep);
        Cli cli = Cli.against(first);
        String longId = spawn(cli, "sleep", "1000");
        ProcessInfo before = get(cli, longId);
        runs.everything().addAll(first.descendants());
        first.process.destroy(); // SIGTERM, as a service manager stops it
        assertTrue(first.process.waitFor(60, TimeUnit.SECONDS), first.stderr());
        assertTrue(ProcessHandle.of(before.getPid()).map(ProcessHandle::isAlive).orElse(false),
                "the child was stopped with its supervisor");

        RunningServer second = runs.start(ARGS);
        try {
            Cli again = Cli.against(second);
            ProcessInfo after = get(again, longId);
            assertEquals(ProcessState.PROCESS_STATE_RUNNING, after.getState(), after::toString);
            assertEquals(before.getPid(), after.getPid());
            assertTrue(agentsBelow(second).isEmpty(), "the adopted agent was enough: none launched");
            // The adopted agent is not the new server's child: its end is seen through its pidfd,
            // and it is replaced like any agent.
            ProcessHandle adopted = null;
            for (ProcessHandle p : runs.everything()) {
                if (cmdline(p.pid()).contains("dev.forkd.agent.AgentMain")) {
                    adopted = p;
                }
            }
            assertTrue(adopted != null && adopted.isAlive(), "the first server's agent runs on");
            adopted.destroyForcibly();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (agentsBelow(second).isEmpty()
                    || get(again, longId).getState() != ProcessState.PROCESS_STATE_LOST) {
                assertTrue(System.nanoTime() < end, "no replacement for the adopted agent, or its child not lost:\n"
                        + get(again, longId) + second.stderr());
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
            }
            runs.everything().addAll(second.descendants());
        } finally {
            second.close();
        }
        assertAllEnd(runs.everything());
    }

    /** Waits (bounded) until the process's log holds {@code text}. */
    private static void awaitLogs(Cli cli, String id, String text) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Cli.Result r = cli.run("logs", id);
        while (!r.out().contains(text)) {
            assertTrue(System.nanoTime() < end, "no \"" + text + "\" in the log of " + id + ": " + r);
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
            r = cli.run("logs", id);
        }
    }

    private static List<ProcessHandle> agentsBelow(RunningServer server) {
        return server.descendants().stream().filter(p -> cmdline(p.pid()).contains("dev.forkd.agent.AgentMain")).toList();
    }

    private static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.ISO_8859_1);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static long groupOf(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[2]);
    }

    /** Every process must end (or be a zombie of init, not running) within 30 s. */
    private static void assertAllEnd(List<ProcessHandle> processes) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (ProcessHandle p : processes) {
            while (running(p.pid())) {
                assertTrue(System.nanoTime() < end, "still running after the last stop: " + p.pid() + " "
                        + p.info().commandLine().orElse("?"));
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
            }
        }
    }

    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
