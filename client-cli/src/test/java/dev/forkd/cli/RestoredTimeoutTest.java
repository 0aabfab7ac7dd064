package dev.forkd.cli;

import static dev.forkd.cli.ServerIncarnations.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
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
 * A process spawned with {@code --timeout} that outlives its supervisor (a crash) is still stopped
 * when its timeout expires, counted from its own start, under the next supervisor.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RestoredTimeoutTest {

    private static final Function<Path, List<String>> ARGS = ServerIncarnations.ARGS;

    @RegisterExtension
    final ServerIncarnations runs = new ServerIncarnations();

    @Test
    void aRestoredRunIsStoppedWhenItsTimeoutExpiresCountedFromItsStart() throws Exception {
        RunningServer first = runs.start(ARGS);
        Cli cli = Cli.against(first);
        Cli.Result spawned = cli.run("spawn", "--timeout", "4s", "--", "sleep", "1000");
        assertEquals(0, spawned.code(), spawned::toString);
        String id = spawned.out().strip();
        ProcessInfo before = get(cli, id);
        runs.everything().addAll(first.descendants());
        first.process.destroyForcibly(); // SIGKILL: a crash, the child runs on
        assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));

        RunningServer second = runs.start(ARGS);
        try {
            Cli again = Cli.against(second);
            // Without its timeout re-armed it would run for 1000 s: wait gives up after 60.
            Cli.Result waited = again.run("wait", "--timeout", "60s", id);
            assertEquals(128 + 15, waited.code(), () -> waited + second.stderr());
            ProcessInfo after = get(again, id);
            assertEquals(ProcessState.PROCESS_STATE_SIGNALED, after.getState(), after::toString);
            assertEquals(before.getPid(), after.getPid(), "the same run, adopted, was stopped");
            long ran = Timestamps.toMillis(after.getEndedAt()) - Timestamps.toMillis(before.getStartedAt());
            assertTrue(ran >= 4000, () -> "stopped before its timeout: after " + ran + " ms");
            runs.everything().addAll(second.descendants());
        } finally {
            second.close();
        }
    }

}
