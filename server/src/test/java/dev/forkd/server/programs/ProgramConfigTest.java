package dev.forkd.server.programs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.process.RestartSpec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgramConfigTest {

    @Test
    void fullDeclarationIsRead() throws Exception {
        ProgramConfig c = ProgramConfig.parse("""
                [server]
                rss_check_interval = "2s"

                [program.db]
                argv = ["redis-server"]

                [program.web]
                argv = ["python3", "-m", "http.server"]
                env = { PORT = "8000" }
                cwd = "/srv"
                labels = { tier = "web" }
                numprocs = 2
                autostart = false
                depends_on = ["db"]
                restart = "on-failure"
                backoff = "500ms"
                max_backoff = "1m"
                stop_signal = "INT"
                stop_grace = "10s"
                max_rss = "256M"

                [program.web.limits]
                open_files = 1024
                cpu_seconds = 60
                core_size = 0
                """);

        Program web = c.programs().get("web");
        assertEquals(List.of("db", "web"), List.copyOf(c.programs().keySet()));
        assertEquals(Duration.ofSeconds(2), c.rssCheckInterval());
        assertEquals("8000", web.env().get("PORT"));
        assertEquals("web", web.labels().get(Program.LABEL));
        assertEquals("web.1", web.instanceName(1));
        assertEquals(RestartSpec.Policy.ON_FAILURE, web.restart().policy());
        assertEquals(Duration.ofMillis(500), web.restart().initialBackoff());
        assertEquals(2, web.stopSignal());
        assertEquals(256L << 20, web.maxRss().getAsLong());
        assertEquals(1024, web.limits().openFiles().getAsLong());
        assertEquals(0, web.limits().coreBytes().getAsLong());
        assertEquals("db", c.programs().get("db").instanceName(0));
    }

    private static ConfigError error(String toml) {
        return assertThrows(ConfigError.class, () -> ProgramConfig.parse(toml));
    }

    @Test
    void tomlSyntaxErrorGivesItsLine() {
        ConfigError e = error("[program.a]\nargv = [\"true\"]\nnumprocs = = 2\n");
        assertEquals(3, e.line());
    }

    @Test
    void unknownKeyGivesItsLineAndTheKnownOnes() {
        ConfigError e = error("[program.a]\nargv = [\"true\"]\n\n[program.b]\nargv = [\"true\"]\nautorestart = true\n");
        assertEquals(6, e.line());
        assertTrue(e.getMessage().startsWith("line 6: program.b.autorestart: unknown key"), e.getMessage());
    }

    @Test
    void undeclaredDependencyAndCyclesAreRefused() {
        assertEquals(3, error("[program.a]\nargv = [\"true\"]\ndepends_on = [\"x\"]\n").line());
        ConfigError cycle = error("""
                [program.a]
                argv = ["true"]
                depends_on = ["b"]
                [program.b]
                argv = ["true"]
                depends_on = ["a"]
                """);
        assertTrue(cycle.getMessage().contains("cycle a -> b -> a"), cycle.getMessage());
    }

    @Test
    void missingArgvBadValuesAndUnknownSectionsAreRefused() {
        assertEquals(1, error("[program.a]\ncwd = \"/tmp\"\n").line());
        assertEquals(3, error("[program.a]\nargv = [\"true\"]\nstop_grace = \"soon\"\n").line());
        assertEquals(3, error("[program.a]\nargv = [\"true\"]\nstop_signal = \"NOPE\"\n").line());
        assertEquals(4, error("[program.a]\nargv = [\"true\"]\n[program.a.limits]\nopen_files = 0\n").line());
        assertEquals(1, error("[programs.a]\nargv = [\"true\"]\n").line());
        ConfigError dotted = error("[program.\"a.b\"]\nargv = [\"true\"]\n");
        assertEquals(1, dotted.line(), dotted.getMessage());
    }

    @Test
    void startOrderPutsDependenciesFirst() throws Exception {
        ProgramConfig c = ProgramConfig.parse("""
                [program.web]
                argv = ["true"]
                depends_on = ["app"]
                [program.app]
                argv = ["true"]
                depends_on = ["db"]
                [program.db]
                argv = ["true"]
                """);
        assertEquals(List.of("db", "app", "web"), StartOrder.of(c.programs()));
    }
}
