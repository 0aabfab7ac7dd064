package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The library looks for the server where the server listens: one directory per user, whatever the
 * environment (a copy of the server's rule, held to the same answers here). A cron job once looked at
 * {@code ~/.local/state/forkd} while the server listened in {@code /tmp/forkd-<uid>}.
 */
class ForkdPathsTest {

    @Test
    void aCronJobAndALoginShellFindTheSameDirectory() {
        ForkdPaths cron = ForkdPaths.fromEnvironment(Map.of("HOME", "/home/ann"), 1000);
        ForkdPaths login = ForkdPaths.fromEnvironment(
                Map.of("HOME", "/home/ann", "XDG_RUNTIME_DIR", "/run/user/1000", "XDG_STATE_HOME", "/home/ann/.st"), 1000);
        assertEquals(Path.of("/tmp/forkd-1000"), cron.stateDir());
        assertEquals(cron, login);
    }

    @Test
    void aRuntimeDirectoryChosenOnPurposeIsHonoured() {
        assertEquals(Path.of("/tmp/test-7/forkd"),
                ForkdPaths.fromEnvironment(Map.of("XDG_RUNTIME_DIR", "/tmp/test-7"), 1000).stateDir());
    }

    @Test
    void theClientLooksWhereTheServerListensInEveryEnvironment() {
        for (Map<String, String> env : List.of(
                Map.of("HOME", "/home/ann"),
                Map.of("HOME", "/home/ann", "XDG_STATE_HOME", "/home/ann/.st"),
                Map.of("XDG_RUNTIME_DIR", "/run/user/1000"),
                Map.of("XDG_RUNTIME_DIR", "/run/user/1000/"),
                Map.of("XDG_RUNTIME_DIR", "/tmp/test-7"),
                Map.of("XDG_RUNTIME_DIR", " "))) {
            assertEquals(dev.forkd.server.config.ForkdPaths.fromEnvironment(env).socket(),
                    ForkdPaths.fromEnvironment(env).socket(), env::toString);
        }
    }
}
