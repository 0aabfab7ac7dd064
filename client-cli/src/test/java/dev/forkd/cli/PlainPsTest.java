package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A plain {@code forkd ps} ({@link PlainPs}, without picocli) answers exactly as the parsed one: the
 * same ids, the same errors and exit codes. {@code --address} with the same server forces the parsed
 * path, so the two are compared on one server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PlainPsTest {

    private RunningServer server;

    @BeforeAll
    void startServer() throws Exception {
        server = RunningServer.start();
    }

    @AfterAll
    void stopServer() throws Exception {
        server.close();
    }

    @Test
    void plainAndParsedPsListTheSameProcesses() {
        Cli cli = Cli.against(server);
        Cli.Result spawned = cli.run("spawn", "--", "sleep", "1000");
        assertEquals(0, spawned.code(), spawned::toString);
        String id = spawned.out().strip();
        Cli.Result ended = cli.run("run", "--", "true");
        assertEquals(0, ended.code(), ended::toString);
        for (String[] flags : new String[][] {{"-q"}, {"-q", "-a"}, {"--quiet", "--all"}}) {
            String[] plain = new String[flags.length + 1];
            plain[0] = "ps";
            System.arraycopy(flags, 0, plain, 1, flags.length);
            String[] parsed = java.util.Arrays.copyOf(plain, plain.length + 2);
            parsed[plain.length] = "--address";
            parsed[plain.length + 1] = server.address();
            Cli.Result a = cli.run(plain);
            Cli.Result b = cli.run(parsed);
            assertEquals(0, a.code(), a::toString);
            assertEquals(b, a, String.join(" ", flags));
            assertTrue(a.out().contains(id + "\n"), a::toString);
        }
        Cli.Result table = cli.run("ps");
        assertEquals(0, table.code(), table::toString);
        assertTrue(table.out().startsWith("ID ") && table.out().contains(id + " "), table::toString);
        assertEquals(0, cli.run("kill", id).code());
    }

    @Test
    void aServerThatIsNotThereIsTheSameErrorOnBothPaths() {
        String gone = "unix:" + server.dir.resolve("nobody-here.sock");
        Cli cli = Cli.against(server).withEnv("FORKD_ADDRESS", gone);
        Cli.Result plain = cli.run("ps");
        Cli.Result parsed = cli.run("ps", "--address", gone);
        assertEquals(ExitCodes.UNREACHABLE, plain.code(), plain::toString);
        assertEquals(parsed, plain);
        assertTrue(plain.err().startsWith("forkd: cannot reach the server at " + gone), plain::toString);
    }

    @Test
    void anythingElseIsParsedAsBefore() {
        Cli cli = Cli.against(server);
        Cli.Result help = cli.run("ps", "--help");
        assertEquals(0, help.code(), help::toString);
        assertTrue(help.out().contains("--format"), help::toString);
        Cli.Result wrong = cli.run("ps", "--al");
        assertEquals(ExitCodes.USAGE, wrong.code(), wrong::toString);
        assertTrue(wrong.err().contains("did you mean"), wrong::toString);
    }
}
