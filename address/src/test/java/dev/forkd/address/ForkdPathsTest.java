package dev.forkd.address;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One socket per user, whatever the caller's environment: the server listens and every client looks there. */
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
    void anotherUsersLoginDirectoryPassedOnBySuIsNotUsed() {
        assertEquals(Path.of("/tmp/forkd-0"),
                ForkdPaths.fromEnvironment(Map.of("XDG_RUNTIME_DIR", "/run/user/1000/"), 0).stateDir());
    }

    @Test
    void aRuntimeDirectoryChosenOnPurposeIsHonoured() {
        assertEquals(Path.of("/tmp/test-7/forkd"),
                ForkdPaths.fromEnvironment(Map.of("XDG_RUNTIME_DIR", "/tmp/test-7"), 1000).stateDir());
    }

    @Test
    void aBlankRuntimeDirectoryIsIgnored() {
        assertEquals(Path.of("/tmp/forkd-1000"),
                ForkdPaths.fromEnvironment(Map.of("XDG_RUNTIME_DIR", " "), 1000).stateDir());
    }

    @Test
    void theUidIsThisProcesssOwn() throws Exception {
        Process id = new ProcessBuilder("id", "-u").start();
        int uid = Integer.parseInt(new String(id.getInputStream().readAllBytes()).strip());
        assertEquals(uid, ForkdPaths.currentUid());
    }
}
