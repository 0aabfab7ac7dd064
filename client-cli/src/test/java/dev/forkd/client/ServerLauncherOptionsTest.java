package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.address.ForkdPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An autostarted server runs the JVM `./forkd serve` runs: an explicit heap, exit on OutOfMemoryError. */
class ServerLauncherOptionsTest {

    @Test
    void anAutostartedServerHasAnExplicitHeapAndExitsOnOutOfMemory() {
        List<String> command = ServerLauncher.forThisJvm(new ForkdPaths(Path.of("/tmp/forkd-launcher-test")),
                "dev.forkd.cli.Main", List.of("serve"), new ServerLauncher.Patience(Duration.ofSeconds(1), Duration.ofSeconds(1))).command();
        assertTrue(command.stream().anyMatch(a -> a.startsWith("-Xmx")), command.toString());
        assertTrue(command.contains("-XX:+ExitOnOutOfMemoryError"), command.toString());
        assertTrue(command.indexOf("-XX:+ExitOnOutOfMemoryError") < command.indexOf("dev.forkd.cli.Main"),
                "JVM options go before the main class: " + command);
    }

    @Test
    void anAutostartedServerIsStartedByTheLauncherTheClientWasStartedBy(@TempDir Path dir) throws Exception {
        Path script = Files.writeString(dir.resolve("forkd"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        ForkdPaths paths = new ForkdPaths(dir.resolve("state"));
        List<String> command = new ArrayList<>(ServerLauncher.forEnvironment(paths, Map.of("FORKD_CLI", script.toString()),
                "dev.forkd.cli.Main", List.of("serve"), new ServerLauncher.Patience(Duration.ofSeconds(1), Duration.ofSeconds(1))).command());
        command.remove("/usr/bin/setsid");
        assertEquals(List.of(script.toString(), "serve", "--listen", "unix:" + paths.socket()), command);
    }

    @Test
    void withoutALauncherTheServerRunsOnThisJvm(@TempDir Path dir) {
        ForkdPaths paths = new ForkdPaths(dir.resolve("state"));
        for (String cli : List.of("", "relative/forkd", dir.resolve("missing").toString())) {
            List<String> command = ServerLauncher.forEnvironment(paths, Map.of("FORKD_CLI", cli),
                    "dev.forkd.cli.Main", List.of("serve"), new ServerLauncher.Patience(Duration.ofSeconds(1), Duration.ofSeconds(1))).command();
            assertTrue(command.contains("dev.forkd.cli.Main"), cli + ": " + command);
        }
    }

    @Test
    void theForkdScriptReadsTheSameOptionsFile() throws Exception {
        // ./forkd runs the distribution's bin/forkd, into which the build writes that file's options.
        Path script = Path.of(System.getProperty("user.dir")).getParent().resolve("dist/src/build-dist.sh");
        String text = Files.readString(script);
        assertTrue(text.contains("client-cli/src/main/resources/dev/forkd/client/serve-jvm-options"),
                "forkd serve must take its JVM options from the file autostart reads");
    }
}
