package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The {@code [server]} table of {@code forkd serve --config}: settings that fill in serve's options. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ServeConfigFileTest {

    private static Cli cliIn(Path dir) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeIf(k -> k.startsWith("FORKD_"));
        env.put("XDG_RUNTIME_DIR", dir.toString());
        env.put("XDG_STATE_HOME", dir.toString());
        return new Cli(env, dir);
    }

    @Test
    void theFileFillsInOptionsTheCommandLineDidNotGiveWithPathsRelativeToTheFile() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkcf");
        Path config = dir.resolve("forkd.toml");
        // agents = 0 would be refused: the command line's --agents wins over it.
        Files.writeString(config, "[server]\nstate_dir = \"from-file\"\nagents = 0\n\n"
                + "[program.sleeper]\nargv = [\"sleep\", \"300\"]\n");
        RunningServer server = RunningServer.start(d -> List.of("--listen", "unix:" + d.resolve("s.sock"),
                "--agents", "1", "--config", config.toString()), Map.of(), c -> c);
        try {
            assertTrue(Files.exists(dir.resolve("from-file/forkd.db")),
                    "the state directory is the file's, relative to the file");
            Cli.Result ps = Cli.against(server).run("ps", "--programs");
            assertEquals(0, ps.code(), ps::toString);
            assertTrue(ps.out().contains("sleeper"), ps::toString);
        } finally {
            server.close();
            RunningServer.deleteTree(dir);
        }
    }

    @Test
    void aBadServerSettingIsAUsageErrorNamingTheFileAndNothingStarts() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkcf");
        Path config = dir.resolve("forkd.toml");
        try {
            Files.writeString(config, "[server]\nagents = 0\n");
            Cli.Result zero = cliIn(dir).run("serve", "--listen", "unix:" + dir.resolve("s.sock"), "--config",
                    config.toString());
            assertEquals(ExitCodes.USAGE, zero.code(), zero::toString);
            assertTrue(zero.err().contains("agents must be between 1 and 64"), zero::toString);

            Files.writeString(config, "[server]\nagents = 1\nlisten_on = \"x\"\n");
            Cli.Result unknown = cliIn(dir).run("serve", "--config", config.toString());
            assertEquals(ExitCodes.USAGE, unknown.code(), unknown::toString);
            assertTrue(unknown.err().contains("line 3: server.listen_on: unknown key"), unknown::toString);

            Files.writeString(config, "[server]\nagents = \"two\"\n");
            Cli.Result text = cliIn(dir).run("serve", "--config", config.toString());
            assertEquals(ExitCodes.USAGE, text.code(), text::toString);
            assertTrue(text.err().contains("server.agents: must be a whole number"), text::toString);
            assertTrue(!Files.exists(dir.resolve("forkd/forkd.sock")), "nothing started");
        } finally {
            RunningServer.deleteTree(dir);
        }
    }
}
