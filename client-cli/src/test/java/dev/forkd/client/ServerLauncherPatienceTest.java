package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.address.ForkdPaths;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Autostart waits for a server as long as it makes progress (its log grows), within an overall
 * bound, and gives up on one that goes silent. The "servers" here are real shell processes that
 * write their log slowly, as a server on a loaded machine does.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerLauncherPatienceTest {

    /** In every fake server's command line, so each test ends exactly the processes it started. */
    private final String marker = "forkd-patience-" + UUID.randomUUID();

    @TempDir
    Path dir;

    @AfterEach
    void endTheFakeServers() {
        ProcessHandle.current().descendants()
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains(marker)).orElse(false))
                .forEach(p -> {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                });
    }

    private ServerLauncher fake(String script, Duration silence, Duration overall) {
        // $0 is the marker; the script's own sleeps stand for a server's slow start-up.
        return new ServerLauncher(new ForkdPaths(dir.resolve("state")), List.of("sh", "-c", script, marker),
                new ServerLauncher.Patience(silence, overall));
    }

    @Test
    void aStartSlowerThanTheSilenceBoundIsWaitedForWhileItsLogGrows() throws Exception {
        // Five seconds in all, four times the silence bound, but a line every 0.5 s.
        ServerLauncher launcher = fake("for i in 1 2 3 4 5 6 7 8 9 10; do echo starting $i; sleep 0.5; done;"
                + " echo '" + ServerLauncher.READY_LINE + "unix:/nowhere'; sleep 60",
                Duration.ofMillis(1200), Duration.ofSeconds(30));
        Optional<ServerLauncher.Started> started = launcher.ensureRunning();
        assertTrue(started.isPresent());
    }

    @Test
    void aServerWhoseLogStaysSilentIsGivenUpOnAndSaidToBeLeftRunning() {
        ServerLauncher launcher = fake("echo starting; sleep 60", Duration.ofSeconds(1), Duration.ofSeconds(30));
        IOException e = assertThrows(IOException.class, launcher::ensureRunning);
        assertTrue(e.getMessage().contains("logged nothing for 1 s"), e.getMessage());
        assertTrue(e.getMessage().contains("left running"), e.getMessage());
    }

    @Test
    void aServerThatNeverGetsReadyIsGivenUpOnAtTheOverallBound() {
        long t0 = System.nanoTime();
        ServerLauncher launcher = fake("while :; do echo starting; sleep 0.2; done", Duration.ofSeconds(1), Duration.ofSeconds(3));
        IOException e = assertThrows(IOException.class, launcher::ensureRunning);
        assertTrue(e.getMessage().contains("still starting after 3 s"), e.getMessage());
        assertTrue(System.nanoTime() - t0 >= Duration.ofSeconds(3).toNanos(), "not before the overall bound");
    }

    @Test
    void aServerThatExitsIsReportedWithItsLastWord() {
        ServerLauncher launcher = fake("echo 'cannot serve on the socket'; exit 4", Duration.ofSeconds(10), Duration.ofSeconds(30));
        IOException e = assertThrows(IOException.class, launcher::ensureRunning);
        assertTrue(e.getMessage().contains("status 4") && e.getMessage().contains("cannot serve on the socket"),
                e.getMessage());
    }

    @Test
    void patienceNeedsASilenceWithinTheOverallBound() {
        assertThrows(IllegalArgumentException.class, () -> new ServerLauncher.Patience(Duration.ZERO, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> new ServerLauncher.Patience(Duration.ofSeconds(2), Duration.ofSeconds(1)));
        assertEquals(Duration.ofSeconds(1), new ServerLauncher.Patience(Duration.ofSeconds(1), Duration.ofSeconds(1)).silence());
    }
}
