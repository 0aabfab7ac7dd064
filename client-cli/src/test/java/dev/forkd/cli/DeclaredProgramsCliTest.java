package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code forkd serve --config}, SIGHUP, {@code forkd reload|start|stop} and {@code ps --programs}, as a user runs them. */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class DeclaredProgramsCliTest {

    private static String program(String name, String seconds) {
        return "[program." + name + "]\nargv = [\"sleep\", \"" + seconds + "\"]\n\n";
    }

    /** The PID column of {@code ps --programs}'s row for process {@code name}, if listed. */
    private static Optional<String> pidOf(Cli cli, String name) {
        Cli.Result ps = cli.run("ps", "--programs");
        assertEquals(0, ps.code(), ps::toString);
        return ps.out().lines().skip(1).map(l -> l.split("\\s+")).filter(c -> c[1].equals(name)).map(c -> c[2]).findFirst();
    }

    @Test
    void serveStartsTheFileSighupAndReloadApplyItAndErrorsAreRefused() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkdc");
        Path config = dir.resolve("forkd.toml");
        Files.writeString(config, program("keep", "300") + program("change", "301"));
        RunningServer server = RunningServer.start(d -> List.of("--listen", "unix:" + d.resolve("s.sock"),
                "--config", config.toString()), java.util.Map.of(), c -> c);
        try {
            Cli cli = Cli.against(server);
            Cli.Result ps = cli.run("ps", "--programs");
            assertTrue(ps.out().lines().findFirst().orElse("").contains("PROGRAM"), ps::toString);
            String keepPid = pidOf(cli, "keep").orElseThrow(() -> new AssertionError(ps.toString()));
            String changePid = pidOf(cli, "change").orElseThrow();

            // SIGHUP applies an edited file.
            Files.writeString(config, program("keep", "300") + program("change", "302") + program("added", "303"));
            new ProcessBuilder("kill", "-HUP", Long.toString(server.process.pid())).inheritIO().start().waitFor();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (pidOf(cli, "added").isEmpty() || pidOf(cli, "change").equals(Optional.of(changePid))) {
                assertTrue(System.nanoTime() < deadline, "SIGHUP never applied the file: " + cli.run("ps", "--programs"));
                LockSupport.parkNanos(50_000_000);
            }
            assertEquals(Optional.of(keepPid), pidOf(cli, "keep"), "the unchanged program kept its pid");

            // A file with an error: refused with its line, nothing changes.
            Files.writeString(config, program("keep", "300") + "[program.bad]\nargv = [\"true\"]\nnumprocs = 0\n");
            Cli.Result bad = cli.run("reload");
            assertNotEquals(0, bad.code(), bad::toString);
            assertTrue(bad.err().contains("line 6: program.bad.numprocs"), bad::toString);
            assertEquals(Optional.of(keepPid), pidOf(cli, "keep"));
            assertTrue(pidOf(cli, "added").isPresent(), "nothing was stopped");

            // stop and start by name.
            Cli.Result stop = cli.run("stop", "keep");
            assertEquals(0, stop.code(), stop::toString);
            assertEquals(Optional.empty(), pidOf(cli, "keep"));
            Cli.Result start = cli.run("start", "keep");
            assertEquals(0, start.code(), start::toString);
            assertTrue(pidOf(cli, "keep").isPresent());
            Cli.Result unknown = cli.run("start", "nope");
            assertNotEquals(0, unknown.code(), unknown::toString);
        } finally {
            server.close();
        }
    }
}
