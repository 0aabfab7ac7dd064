package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code forkd with-lock} while its server is SIGKILLed and started again: a server that kept the
 * session gives the lock back (the command goes on, silent, and releases at the end); one started
 * {@code --fresh} does not, and the command says at once that the lock is no longer held.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WithLockRestartTest {

    @Test
    void theLockIsStillHeldAfterARestartThatKeptTheSession() throws Exception {
        RestartableServer server = RestartableServer.start(List.of());
        Path go = server.dir.resolve("go");
        try {
            Cli cli = server.cli();
            CompletableFuture<Cli.Result> run = CompletableFuture.supplyAsync(() -> cli.run("with-lock", "L", "--",
                    "sh", "-c", "echo $FORKD_FENCING_TOKEN > " + server.dir.resolve("token")
                            + "; while [ ! -e " + go + " ]; do sleep 0.05; done; exit 7"));
            awaitFile(server.dir.resolve("token"), run);
            server.sigkill();
            server.startAgain();
            Cli.Result busy = cli.run("with-lock", "--timeout", "1s", "L", "--", "true");
            assertEquals(ExitCodes.STILL_RUNNING, busy.code(), "with-lock's session still holds L: " + busy);
            release(go);
            Cli.Result r = run.get(60, TimeUnit.SECONDS);
            assertEquals(7, r.code(), r::toString);
            assertFalse(r.err().contains("no longer held"), r::toString);
            Cli.Result free = cli.run("with-lock", "--timeout", "10s", "L", "--", "true");
            assertEquals(0, free.code(), "released once the command ended: " + free);
            server.stopAndListSurvivors(Duration.ofSeconds(30)).forEach(s -> {
                throw new AssertionError("left running: " + s);
            });
        } finally {
            release(go); // with-lock's child (this JVM's grandchild) must not outlive a failed test
            server.close();
        }
    }

    @Test
    void aFreshServerLosesTheLockAndTheCommandSaysSo() throws Exception {
        RestartableServer server = RestartableServer.start(List.of());
        Path go = server.dir.resolve("go");
        try {
            Cli cli = server.cli();
            CompletableFuture<Cli.Result> run = CompletableFuture.supplyAsync(() -> cli.run("with-lock", "L", "--",
                    "sh", "-c", "echo $FORKD_FENCING_TOKEN > " + server.dir.resolve("token")
                            + "; while [ ! -e " + go + " ]; do sleep 0.05; done; exit 7"));
            awaitFile(server.dir.resolve("token"), run);
            server.sigkill();
            server.startAgain(List.of("--fresh"));
            Cli.Result taken = cli.run("with-lock", "--timeout", "10s", "L", "--", "true");
            assertEquals(0, taken.code(), "a fresh server knows no holder of L: " + taken);
            release(go);
            Cli.Result r = run.get(60, TimeUnit.SECONDS);
            assertEquals(7, r.code(), "the command's own status, lock or not: " + r);
            assertTrue(r.err().contains("forkd: warning: L is no longer held"), r::toString);
            // No check for leftovers here: the agent of the killed server outlives it, and what a
            // --fresh server does with it is the agents' concern (closing kills whatever is left).
        } finally {
            release(go); // with-lock's child (this JVM's grandchild) must not outlive a failed test
            server.close();
        }
    }

    private static void release(Path go) throws java.io.IOException {
        if (!Files.exists(go)) {
            Files.createFile(go);
        }
    }

    /** Waits (up to 60 s) for the child to write {@code file}; fails early if the command ended. */
    private static void awaitFile(Path file, CompletableFuture<Cli.Result> run) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(file)) {
            if (run.isDone()) {
                throw new AssertionError("with-lock ended before its command ran: " + run.get());
            }
            assertTrue(System.nanoTime() < end, "the command did not start within 60 s");
            LockSupport.parkNanos(20_000_000); // a file has no event to wait on here
        }
    }
}
