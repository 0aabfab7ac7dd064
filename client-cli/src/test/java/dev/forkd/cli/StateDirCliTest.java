package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code forkd serve}'s state directory as a user meets it: one server each, a damaged store, --fresh. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StateDirCliTest {

    @Test
    void aStoreThatCannotBeReadIsAClearRefusalAndFreshStartsEmpty() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fksd");
        Path state = dir.resolve("state");
        Files.createDirectory(state, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.writeString(state.resolve("forkd.db"), "not a database, but something a crash or a person left here");
        try {
            Map<String, String> env = new HashMap<>(System.getenv());
            env.keySet().removeIf(k -> k.startsWith("FORKD_"));
            env.put("XDG_RUNTIME_DIR", dir.toString());
            Cli.Result refused = new Cli(env, dir).run("serve", "--listen", "unix:" + dir.resolve("s.sock"),
                    "--state-dir", state.toString());
            assertEquals(ExitCodes.ERROR, refused.code(), refused::toString);
            assertTrue(refused.err().startsWith("forkd: cannot serve on unix:") && refused.err().contains("state store"),
                    refused::toString);
            assertFalse(refused.err().contains("\tat "), "no stack trace: " + refused);

            try (RunningServer server = RunningServer.start(d -> List.of("--listen", "unix:" + d.resolve("s.sock"),
                    "--state-dir", state.toString(), "--fresh"), Map.of(), c -> c)) {
                Cli.Result ps = Cli.against(server).run("ps");
                assertEquals(0, ps.code(), ps::toString);
                assertTrue(server.stderr().contains("--fresh:"), "it says what it discarded: " + server.stderr());
            }
        } finally {
            RunningServer.deleteTree(dir);
        }
    }
}
