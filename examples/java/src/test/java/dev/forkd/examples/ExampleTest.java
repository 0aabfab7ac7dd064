package dev.forkd.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.ForkdServer;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The example runs as a user would run it: its own JVM, finding a real server through FORKD_ADDRESS. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ExampleTest {

    @Test
    void theExampleRunsAgainstARealServer() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fke");
        try (ForkdServer server = ForkdServer.start(ServerConfig.defaults(new ForkdPaths(dir))
                .withListen(new ListenAddress.Unix(dir.resolve("s.sock"))).withAgents(1))) {
            Path out = dir.resolve("out.txt");
            ProcessBuilder pb = new ProcessBuilder(List.of(ProcessHandle.current().info().command().orElseThrow(),
                    "-cp", System.getProperty("java.class.path"), Example.class.getName()))
                    .redirectOutput(out.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().put("FORKD_ADDRESS", "unix:" + dir.resolve("s.sock"));
            pb.environment().remove("FORKD_SESSION");
            Process example = pb.start();
            assertTrue(example.waitFor(90, TimeUnit.SECONDS), "the example did not finish");
            String printed = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, example.exitValue(), printed);
            assertEquals(List.of(
                    "process said \"hello from pid N\" and exited 3",
                    "squares [1, 4, 9, 16]",
                    "took first, then second",
                    "runs 1"), printed.lines().toList());
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
