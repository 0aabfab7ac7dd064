package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * When the supervisor goes away, nothing it started runs on unseen: on SIGTERM it stops agents and
 * children in order; on SIGKILL with no orphan grace each agent notices its stream end, kills its
 * children and exits (with a grace, they wait for the next supervisor: SupervisorRestartTest).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SupervisorDeathTest {

    @Test
    void sigtermStopsAgentsAndChildren() throws Exception {
        RunningServer server = RunningServer.start();
        Cli cli = Cli.against(server);
        Cli.Result r = cli.run("spawn", "--", "sh", "-c", "sleep 1000 & sleep 1000");
        assertEquals(0, r.code(), r.toString());
        List<ProcessHandle> below = awaitDescendants(server, 2); // the agent and sh at least
        // close() sends SIGTERM and fails naming any survivor within its limit.
        server.close();
        for (ProcessHandle p : below) {
            assertFalse(p.isAlive(), p.pid() + " " + p.info().commandLine().orElse("?"));
        }
    }

    @Test
    void sigkillWithNoOrphanGraceLeavesNoChildRunning() throws Exception {
        RunningServer server = RunningServer.start(dir -> List.of("--listen", "unix:" + dir.resolve("s.sock"),
                "--orphan-grace", "0s"), java.util.Map.of(), command -> command);
        try {
            Cli cli = Cli.against(server);
            Cli.Result r = cli.run("spawn", "--", "sleep", "1000");
            assertEquals(0, r.code(), r.toString());
            List<ProcessHandle> below = awaitDescendants(server, 2);
            server.process.destroyForcibly(); // SIGKILL
            assertTrue(server.process.waitFor(30, TimeUnit.SECONDS));
            // The agents see their stream end, kill their children, reap them and exit. An agent
            // may stay a zombie of init (not ours to reap); it must not be running.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (ProcessHandle p : below) {
                while (runningState(p.pid())) {
                    assertTrue(System.nanoTime() < deadline, "still running after the supervisor died: "
                            + p.pid() + " " + p.info().commandLine().orElse("?"));
                    java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
                }
            }
        } finally {
            RunningServer.deleteTree(server.dir);
        }
    }

    /** True while /proc shows the process and it is not a zombie. */
    private static boolean runningState(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The server's descendants once there are at least {@code n} (the spawn has answered, so they exist). */
    private static List<ProcessHandle> awaitDescendants(RunningServer server, int n) {
        List<ProcessHandle> below = server.descendants();
        assertTrue(below.size() >= n, "expected at least " + n + " processes below the server: " + below);
        return below;
    }
}
