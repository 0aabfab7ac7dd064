package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An autostarted server runs the JVM `./forkd serve` runs: an explicit heap, exit on OutOfMemoryError. */
class ServerLauncherOptionsTest {

    @Test
    void anAutostartedServerHasAnExplicitHeapAndExitsOnOutOfMemory() {
        List<String> command = ServerLauncher.forThisJvm(new ForkdPaths(Path.of("/tmp/forkd-launcher-test")),
                "dev.forkd.cli.Main", List.of("serve"), Duration.ofSeconds(1)).command();
        assertTrue(command.stream().anyMatch(a -> a.startsWith("-Xmx")), command.toString());
        assertTrue(command.contains("-XX:+ExitOnOutOfMemoryError"), command.toString());
        assertTrue(command.indexOf("-XX:+ExitOnOutOfMemoryError") < command.indexOf("dev.forkd.cli.Main"),
                "JVM options go before the main class: " + command);
    }

    @Test
    void theForkdScriptReadsTheSameOptionsFile() throws Exception {
        Path script = Path.of(System.getProperty("user.dir")).getParent().resolve("forkd");
        String text = Files.readString(script);
        assertTrue(text.contains("client-cli/src/main/resources/dev/forkd/client/serve-jvm-options"),
                "./forkd serve must take its JVM options from the file autostart reads");
    }
}
