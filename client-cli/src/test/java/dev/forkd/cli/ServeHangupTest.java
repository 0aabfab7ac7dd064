package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SIGHUP, as supervisord, nginx users and logrotate send it, never stops {@code forkd serve}: it
 * reopens the log (a rotated log is written anew at its path), and the agents and children run on.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ServeHangupTest {

    private static void kill(String signal, long target) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, "--", Long.toString(target)).inheritIO().start();
        assertTrue(kill.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue(), "kill -" + signal + " " + target);
    }

    /** Waits (no event to wait on: a file another process writes) until {@code file} contains {@code text}. */
    private static void awaitText(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).contains(text))) {
            assertTrue(System.nanoTime() < deadline, file + " never said \"" + text + "\"");
            LockSupport.parkNanos(10_000_000);
        }
    }

    @Test
    void sighupReopensTheLogAndStopsNeitherServerNorAgentsNorChildren() throws Exception {
        RunningServer server = RunningServer.start();
        try {
            Cli cli = Cli.against(server);
            Cli.Result r = cli.run("spawn", "--", "sleep", "1000");
            assertEquals(0, r.code(), r.toString());
            // By parentage, not command lines (the JDK may not read a long one): the agent is the
            // server's child, the sleep the agent's.
            List<ProcessHandle> below = server.descendants();
            long serverPid = server.process.pid();
            ProcessHandle agent = below.stream()
                    .filter(p -> p.parent().map(ProcessHandle::pid).orElse(-1L) == serverPid)
                    .findFirst().orElseThrow(() -> new AssertionError("no agent below the server: " + below));
            ProcessHandle child = below.stream()
                    .filter(p -> p.parent().map(ProcessHandle::pid).orElse(-1L) == agent.pid())
                    .findFirst().orElseThrow(() -> new AssertionError("no child below the agent: " + below));

            // As logrotate does: move the log away, then HUP.
            Path log = server.dir.resolve("server.err");
            Files.move(log, server.dir.resolve("server.err.1"));
            kill("HUP", server.process.pid());
            awaitText(log, "SIGHUP: reopened the log");
            // A HUP to an agent's process group (its own) must not end it either.
            kill("HUP", -agent.pid());

            assertEquals(0, cli.run("ps").code(), "the server answers after SIGHUP");
            assertTrue(server.process.isAlive(), "the server survived SIGHUP");
            assertTrue(agent.isAlive(), "the agent survived SIGHUP");
            assertTrue(child.isAlive(), "the child survived SIGHUP");
            // The agent, HUP'd before this spawn, still runs children.
            assertEquals(0, cli.run("run", "--", "true").code());
            assertTrue(agent.isAlive(), "the agent survived SIGHUP");
        } finally {
            server.close(); // SIGTERM still stops everything, and nothing is left
        }
    }
}
