package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code forkd serve --agent-heartbeat / --agent-lost-after}: values that cannot work are a usage
 * error before anything starts; accepted ones are what the server runs with (it says so when it
 * listens).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServeAgentLivenessTest {

    private static Cli.Result serve(String... flags) {
        Cli cli = new Cli(Map.of("XDG_RUNTIME_DIR", "/nonexistent-forkd-test"), Path.of(System.getProperty("user.dir")));
        String[] args = new String[flags.length + 1];
        args[0] = "serve";
        System.arraycopy(flags, 0, args, 1, flags.length);
        return cli.run(args);
    }

    @Test
    void heartbeatAndLostAfterThatCannotWorkAreUsageErrors() {
        for (List<String> flags : List.of(
                List.of("--agent-heartbeat", "0s"),
                List.of("--agent-heartbeat", "2s", "--agent-lost-after", "3s"),
                List.of("--agent-lost-after", "1s"),
                List.of("--agent-heartbeat", "2m"),
                List.of("--agent-lost-after", "2h"),
                List.of("--agent-heartbeat", "soon"))) {
            Cli.Result r = serve(flags.toArray(String[]::new));
            assertEquals(ExitCodes.USAGE, r.code(), flags + ": " + r);
            assertTrue(r.err().contains(flags.get(flags.size() - 2)) || r.err().contains("agent"), flags + ": " + r);
        }
    }

    @Test
    void acceptedValuesAreTheOnesTheServerRunsWith() throws Exception {
        try (RunningServer server = RunningServer.start(dir -> List.of("--listen", "unix:" + dir.resolve("s.sock"),
                "--agent-heartbeat", "250ms", "--agent-lost-after", "3s"), Map.of(), c -> c)) {
            assertTrue(server.stderr().contains("agents heartbeat every 250 ms, lost after 3000 ms of silence"),
                    server.stderr());
            Cli.Result r = Cli.against(server).run("run", "--", "true");
            assertEquals(0, r.code(), r.toString());
        }
    }
}
