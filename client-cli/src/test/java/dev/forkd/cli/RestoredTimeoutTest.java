package dev.forkd.cli;

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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A process spawned with {@code --timeout} that outlives its supervisor (a crash) is still stopped
 * when its timeout expires, counted from its own start, under the next supervisor.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RestoredTimeoutTest {

    private static final Function<Path, List<String>> ARGS = dir -> List.of("--listen",
            "unix:" + dir.resolve("s.sock"), "--agent-return-wait", "30s");

    private Path dir;
    private final List<ProcessHandle> everything = new ArrayList<>();
    private final List<RunningServer> servers = new ArrayList<>();

    @BeforeEach
    void makeDir() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "fkd");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (RunningServer server : servers) {
            everything.addAll(server.descendants());
            server.process.destroyForcibly();
        }
        for (ProcessHandle p : everything) {
            p.destroyForcibly();
        }
        RunningServer.deleteTree(dir);
    }

    @Test
    void aRestoredRunIsStoppedWhenItsTimeoutExpiresCountedFromItsStart() throws Exception {
        RunningServer first = RunningServer.startIn(dir, ARGS, Map.of(), c -> c);
        servers.add(first);
        Cli cli = Cli.against(first);
        Cli.Result spawned = cli.run("spawn", "--timeout", "4s", "--", "sleep", "1000");
        assertEquals(0, spawned.code(), spawned::toString);
        String id = spawned.out().strip();
        ProcessInfo before = get(cli, id);
        everything.addAll(first.descendants());
        first.process.destroyForcibly(); // SIGKILL: a crash, the child runs on
        assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));

        RunningServer second = RunningServer.startIn(dir, ARGS, Map.of(), c -> c);
        servers.add(second);
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
            everything.addAll(second.descendants());
        } finally {
            second.close();
        }
    }

    private static ProcessInfo get(Cli cli, String id) throws Exception {
        Cli.Result r = cli.run("get", "--json", id);
        assertEquals(0, r.code(), r::toString);
        ProcessInfo.Builder p = ProcessInfo.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(r.out(), p);
        return p.build();
    }
}
