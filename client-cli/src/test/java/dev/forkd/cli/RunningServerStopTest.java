package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The stop every real-server test ends with. ServeHangupTest once reported being stuck in it: a CLI call
 * had hung until the test's timeout interrupted it, gRPC left the thread's interrupt flag set, and the
 * stop's first wait threw InterruptedException at once, so it neither waited for the server nor killed
 * what was left, and the report pointed at the stop instead of the call that hung.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RunningServerStopTest {

    @Test
    void anInterruptedTestStillStopsTheServerAndEverythingBelowIt() throws Exception {
        RunningServer server = RunningServer.start();
        List<ProcessHandle> below;
        try {
            assertEquals(0, Cli.against(server).run("spawn", "--", "sleep", "1000").code());
            below = server.descendants();
            assertTrue(below.size() >= 2, "an agent and its child below the server: " + below);
        } catch (Throwable t) {
            server.close();
            throw t;
        }
        Thread.currentThread().interrupt(); // as a test timeout leaves it
        try {
            server.close();
            assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
        } finally {
            Thread.interrupted();
        }
        assertFalse(server.process.isAlive(), "the server was stopped");
        for (ProcessHandle p : below) {
            assertFalse(p.isAlive(), "still alive below the stopped server: " + p.pid() + " " + p.info().commandLine().orElse("?"));
        }
    }
}
