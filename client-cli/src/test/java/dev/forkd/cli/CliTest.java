package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.forkd.v1.ListProcessesResponse;
import dev.forkd.v1.ProcessInfo;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The commands as a user types them, against a real {@code forkd serve} with real children. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliTest extends AgainstOneServer {

    /** {@code forkd spawn -- command...}, or {@code forkd spawn options... -- command...} when it has a "--". */
    private String spawn(String... command) {
        List<String> args = new ArrayList<>(List.of("spawn"));
        if (!List.of(command).contains("--")) {
            args.add("--");
        }
        args.addAll(List.of(command));
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r::toString);
        String id = r.out().strip();
        assertTrue(!id.isEmpty() && !id.contains("\n"), () -> "spawn prints the id only: " + r);
        spawned.add(id);
        return id;
    }

    private static void assertOneLine(Cli.Result r) {
        String err = r.err();
        assertTrue(err.endsWith("\n") && err.indexOf('\n') == err.length() - 1,
                () -> "one line on stderr: " + r);
        assertTrue(err.startsWith("forkd: "), () -> "the line starts with 'forkd: ': " + r);
    }

    @Test
    void runPrintsTheChildsOutputAndExitsWithItsCode() {
        Cli.Result r = cli.run("run", "--", "sh", "-c", "echo hi; exit 3");
        assertEquals(3, r.code(), r::toString);
        assertEquals("hi\n", r.out(), r::toString);
    }

    @Test
    void runExitsWith128PlusTheSignalThatKilledTheChild() {
        Cli.Result r = cli.run("run", "--", "sh", "-c", "kill -9 $$");
        assertEquals(137, r.code(), r::toString);
    }

    @Test
    void runSendsTheChildsStderrToStderr() {
        Cli.Result r = cli.run("run", "--", "sh", "-c", "echo out; echo err >&2");
        assertEquals(0, r.code(), r::toString);
        assertEquals("out\n", r.out(), r::toString);
        assertEquals("err\n", r.err(), r::toString);
    }

    @Test
    void runWorksWithoutTheDoubleDash() {
        Cli.Result r = cli.run("run", "sh", "-c", "echo plain");
        assertEquals(0, r.code(), r::toString);
        assertEquals("plain\n", r.out(), r::toString);
    }

    @Test
    void runInteractiveRoundTripsStdinAndClosesItAtEof() {
        byte[] input = "hello\nworld\n".getBytes(StandardCharsets.UTF_8);
        Cli.Result r = cli.withStdin(input, "run", "-i", "--", "cat");
        assertEquals(0, r.code(), r::toString);
        assertEquals("hello\nworld\n", r.out(), r::toString);
    }

    @Test
    void runInteractiveCarriesLargeInput() {
        byte[] input = "0123456789abcdef".repeat(64 * 1024).getBytes(StandardCharsets.UTF_8); // 1 MiB
        Cli.Result r = cli.withStdin(input, "run", "-i", "--", "wc", "-c");
        assertEquals(0, r.code(), r::toString);
        assertEquals(Integer.toString(input.length), r.out().strip(), r::toString);
    }

    @Test
    void runPassesEnvironmentAndDefaultsToTheCallersDirectory() throws Exception {
        Path here = Files.createTempDirectory(server.dir, "cwd").toRealPath();
        Cli.Result r = cli.in(here).run("run", "--env", "GREETING=a=b", "--", "sh", "-c", "echo \"$GREETING\"; pwd");
        assertEquals(0, r.code(), r::toString);
        assertEquals("a=b\n" + here + "\n", r.out(), r::toString);
    }

    @Test
    void runPassesTheCallersEnvironmentUnderItsOwnVariables() {
        Cli caller = cli.withEnv("FORKD_CALLER_VAR", "from-shell").withEnv("FORKD_PROCESS_ID", "the-callers-id");
        Cli.Result r = caller.run("run", "--name", "env-" + System.nanoTime(), "--env", "OTHER=x", "--",
                "sh", "-c", "echo \"$FORKD_CALLER_VAR|$OTHER|$FORKD_PROCESS_ID\"");
        assertEquals(0, r.code(), r::toString);
        String[] got = r.out().strip().split("\\|", -1);
        assertEquals("from-shell", got[0], r::toString);
        assertEquals("x", got[1], r::toString);
        // The child's own id, set by the server, not the caller's.
        assertTrue(!got[2].isEmpty() && !got[2].equals("the-callers-id"), r::toString);
    }

    @Test
    void spawnPassesTheCallersEnvironmentAndCleanEnvDoesNot() {
        Cli caller = cli.withEnv("FORKD_CALLER_VAR", "from-shell");
        Cli.Result spawned = caller.run("spawn", "--", "sh", "-c", "echo \"[$FORKD_CALLER_VAR]\"");
        assertEquals(0, spawned.code(), spawned::toString);
        String id = spawned.out().strip();
        assertEquals(0, cli.run("wait", "--timeout", "30s", id).code());
        assertEquals("[from-shell]\n", cli.run("logs", id).out());
        Cli.Result clean = caller.run("run", "--clean-env", "--", "/bin/sh", "-c", "echo \"[$FORKD_CALLER_VAR]\"");
        assertEquals(0, clean.code(), clean::toString);
        assertEquals("[]\n", clean.out(), clean::toString);
    }

    @Test
    void aCallersOwnForkdCredentialsAreNotPassedOn() {
        var inherited = CallerEnvironment.inherited(java.util.Map.of("FORKD_SESSION", "s", "FORKD_TOKEN", "t",
                "FORKD_PROCESS_ID", "p", "FORKD_ADDRESS", "a", "HOME", "/h"));
        assertEquals(java.util.Map.of("FORKD_ADDRESS", "a", "HOME", "/h"), inherited);
    }

    @Test
    void runOfANonExecutableProgramExits126AsAShellDoes() throws Exception {
        Path script = Files.createTempFile(server.dir, "not-executable", ".sh");
        Files.writeString(script, "echo never\n");
        Cli.Result r = cli.run("run", "--", script.toString());
        assertEquals(126, r.code(), r::toString);
        assertOneLine(r);
        assertEquals("", r.out(), r::toString);
    }

    @Test
    void runOfAMissingProgramFailsWithOneLine() {
        Cli.Result r = cli.run("run", "--", "/no/such/program");
        assertEquals(127, r.code(), r::toString);
        assertOneLine(r);
        assertTrue(r.err().contains("/no/such/program") || r.err().toLowerCase().contains("not found"), r::toString);
    }

    @Test
    void runSendsSigpipeToTheChildWhenItsOutputIsClosed() {
        String name = "yes-" + System.nanoTime();
        OutputStream closesAfter64k = new OutputStream() {
            private long written;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                written += len;
                if (written > 64 * 1024) {
                    throw new IOException("Broken pipe");
                }
            }
        };
        Cli.Result r = cli.withStreams(new byte[0], closesAfter64k, "run", "--name", name, "--", "yes");
        assertEquals(141, r.code(), r::toString);
        Cli.Result waited = cli.run("wait", "--timeout", "30s", name);
        assertEquals(141, waited.code(), () -> "yes ends by SIGPIPE as in a shell pipeline: " + waited);
    }

    @Test
    void runDaemonTiesTheProcessToTheCommandsSession() throws Exception {
        String name = "daemon-" + System.nanoTime();
        Cli.Result r = cli.run("run", "--daemon", "--name", name, "--", "true");
        assertEquals(0, r.code(), r::toString);
        Cli.Result got = cli.run("get", "--json", name);
        ProcessInfo.Builder p = ProcessInfo.newBuilder();
        JsonFormat.parser().merge(got.out(), p);
        assertTrue(p.getDaemon(), got::toString);
        assertTrue(!p.getSessionId().isEmpty(), got::toString);
    }

    @Test
    void spawnDaemonWithoutASessionIsAUsageError() {
        Cli.Result r = cli.run("spawn", "--daemon", "--", "true");
        assertEquals(2, r.code(), r::toString);
        assertOneLine(r);
    }

    @Test
    void logsSaysWhenTheOutputCapDroppedSome() {
        String id = spawn("--output-limit", "4096", "--", "sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; echo; echo end");
        assertEquals(0, cli.run("wait", "--timeout", "30s", id).code());
        Cli.Result r = cli.run("logs", id);
        assertEquals(0, r.code(), r::toString);
        // The newest output is kept (how much of an over-sized chunk survives is the server's choice).
        assertTrue(r.out().endsWith("end\n"), () -> "the newest output is kept: " + r.out().length() + " bytes; " + r.err());
        assertTrue(r.out().length() <= 4096, () -> "at most the cap: " + r.out().length());
        assertTrue(r.err().startsWith("forkd: output bytes 0 to ") && r.err().contains("dropped"), r::toString);
    }

    @Test
    void spawnThenWaitThenLogs() {
        String id = spawn("sh", "-c", "echo one; echo two >&2; exit 4");
        Cli.Result waited = cli.run("wait", "--timeout", "30s", id);
        assertEquals(4, waited.code(), waited::toString);
        assertTrue(waited.out().contains(id) && waited.out().contains("exited with code 4"), waited::toString);

        Cli.Result logs = cli.run("logs", id);
        assertEquals(0, logs.code(), logs::toString);
        assertEquals("one\n", logs.out(), logs::toString);
        assertEquals("two\n", logs.err(), logs::toString);

        Cli.Result from = cli.run("logs", "--from", "4", id); // "one\n" is bytes 0..3
        assertEquals("", from.out(), from::toString);
        assertEquals("two\n", from.err(), from::toString);
    }

    @Test
    void logsFollowStreamsUntilTheProcessEnds() {
        String id = spawn("sh", "-c", "echo first; sleep 1; echo last");
        Cli.Result r = cli.run("logs", "-f", id);
        assertEquals(0, r.code(), r::toString);
        assertEquals("first\nlast\n", r.out(), r::toString);
    }

    @Test
    void killTerminatesASleeperAndWaitSaysItWasSignalled() {
        String id = spawn("sleep", "1000");
        Cli.Result killed = cli.run("kill", id);
        assertEquals(0, killed.code(), killed::toString);
        Cli.Result waited = cli.run("wait", "--timeout", "30s", id);
        assertEquals(128 + 15, waited.code(), waited::toString);
        assertTrue(waited.out().contains("SIGTERM"), waited::toString);
    }

    @Test
    void killDashNineKillsAtOnce() {
        String id = spawn("sleep", "1000");
        assertEquals(0, cli.run("kill", "-s", "9", id).code());
        Cli.Result waited = cli.run("wait", "--timeout", "30s", id);
        assertEquals(137, waited.code(), waited::toString);
        assertTrue(waited.out().contains("SIGKILL"), waited::toString);
    }

    @Test
    void killWithANamedSignalSendsThatSignal() {
        String id = spawn("sleep", "1000");
        assertEquals(0, cli.run("kill", "-s", "SIGUSR1", id).code());
        Cli.Result waited = cli.run("wait", "--timeout", "30s", id);
        assertEquals(128 + 10, waited.code(), waited::toString);
    }

    @Test
    void waitThatTimesOutExits124AndSaysSo() {
        String id = spawn("sleep", "1000");
        Cli.Result r = cli.run("wait", "--timeout", "200ms", id);
        assertEquals(124, r.code(), r::toString);
        assertEquals("", r.out(), r::toString);
        assertOneLine(r);
        assertTrue(r.err().contains("still running"), r::toString);
        cli.run("kill", "-s", "KILL", id);
    }

    @Test
    void psJsonParsesAndListsTheProcess() throws Exception {
        String id = spawn("sleep", "1000");
        Cli.Result r = cli.run("ps", "--json");
        assertEquals(0, r.code(), r::toString);
        ListProcessesResponse.Builder parsed = ListProcessesResponse.newBuilder();
        JsonFormat.parser().merge(r.out(), parsed);
        ProcessInfo p = parsed.getProcessesList().stream().filter(x -> x.getId().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("ps --json lists " + id + ": " + r));
        assertEquals(List.of("sleep", "1000"), p.getArgvList());

        Cli.Result table = cli.run("ps");
        assertEquals(0, table.code(), table::toString);
        assertTrue(table.out().startsWith("ID "), table::toString);
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith(id + " ") && l.contains("running")
                && l.endsWith("sleep 1000")), table::toString);
        cli.run("kill", "-s", "KILL", id);
    }

    @Test
    void psShowsEndedProcessesOnlyWithAll() {
        String id = spawn("true");
        assertEquals(0, cli.run("wait", id).code());
        assertTrue(cli.run("ps").out().lines().noneMatch(l -> l.startsWith(id + " ")));
        Cli.Result all = cli.run("ps", "--all");
        assertTrue(all.out().lines().anyMatch(l -> l.startsWith(id + " ") && l.contains("exited")), all::toString);
        Cli.Result exited = cli.run("ps", "--state", "exited");
        assertTrue(exited.out().lines().anyMatch(l -> l.startsWith(id + " ")), exited::toString);
    }

    @Test
    void labelsAndNamesFilterTheListing() {
        String name = "labelled-" + System.nanoTime();
        Cli.Result r = cli.run("spawn", "--name", name, "--label", "team=cli", "--", "sleep", "1000");
        assertEquals(0, r.code(), r::toString);
        String id = r.out().strip();
        spawned.add(id);
        Cli.Result byLabel = cli.run("ps", "--label", "team=cli");
        assertTrue(byLabel.out().contains(id), byLabel::toString);
        Cli.Result byName = cli.run("get", name);
        assertEquals(0, byName.code(), byName::toString);
        assertTrue(byName.out().contains(id) && byName.out().contains("team=cli"), byName::toString);
        cli.run("kill", "-s", "KILL", name);
    }

    @Test
    void getJsonIsTheProcess() throws Exception {
        String id = spawn("true");
        cli.run("wait", id);
        Cli.Result r = cli.run("get", "--json", id);
        assertEquals(0, r.code(), r::toString);
        ProcessInfo.Builder p = ProcessInfo.newBuilder();
        JsonFormat.parser().merge(r.out(), p);
        assertEquals(id, p.getId());
        assertEquals(0, p.getExitCode());
    }

    @Test
    void rmForgetsAnEndedProcess() {
        String id = spawn("true");
        cli.run("wait", id);
        Cli.Result r = cli.run("rm", id);
        assertEquals(0, r.code(), r::toString);
        assertEquals(id + "\n", r.out(), r::toString);
        Cli.Result gone = cli.run("get", id);
        assertEquals(1, gone.code(), gone::toString);
    }

    @Test
    void rmForceKillsARunningProcessFirst() {
        String id = spawn("sleep", "1000");
        Cli.Result r = cli.run("rm", "-f", id);
        assertEquals(0, r.code(), r::toString);
        assertEquals(1, cli.run("get", id).code());
    }

    @Test
    void anUnknownIdExits1WithOneLineNamingIt() {
        for (String command : List.of("get", "wait", "logs", "kill", "rm")) {
            Cli.Result r = cli.run(command, "p-no-such-id");
            assertEquals(1, r.code(), () -> command + ": " + r);
            assertOneLine(r);
            assertTrue(r.err().contains("p-no-such-id"), () -> command + ": " + r);
        }
    }

    @Test
    void badUsageExits2WithOneLine() {
        for (String[] args : List.of(
                new String[] {"get"},
                new String[] {"ps", "--bogus"},
                new String[] {"run"},
                new String[] {"wait", "x", "--timeout", "soon"},
                new String[] {"run", "--restart", "sometimes", "--", "true"},
                new String[] {"ps", "--state", "sleeping"},
                new String[] {"frobnicate"},
                new String[] {"ps", "--address", "nonsense"},
                // Commands that print plain text refuse --json rather than ignore it.
                new String[] {"run", "--json", "--", "true"},
                new String[] {"logs", "--json", "p-1"},
                new String[] {"queue", "get", "--json", "q"},
                new String[] {"pipe", "recv", "--json", "e"},
                new String[] {"event", "set", "--json", "e"},
                new String[] {"map", "--json", "--", "echo", ":::", "a"})) {
            Cli.Result r = cli.run(args);
            assertEquals(2, r.code(), () -> String.join(" ", args) + ": " + r);
            assertOneLine(r);
        }
        Cli.Result bare = cli.run();
        assertEquals(2, bare.code(), bare::toString);
        assertTrue(bare.err().contains("Usage: forkd"), bare::toString);
    }

    @Test
    void helpOnEveryCommand() {
        for (String command : List.of("serve", "run", "spawn", "ps", "get", "wait", "logs", "kill", "rm", "status")) {
            Cli.Result r = cli.run(command, "--help");
            assertEquals(0, r.code(), () -> command + ": " + r);
            assertTrue(r.out().startsWith("Usage: forkd " + command), () -> command + ": " + r);
        }
    }

    @Test
    void statusSaysServingAndCounts() {
        Cli.Result r = cli.run("status");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains(server.address()), r::toString);
        assertTrue(r.out().contains("SERVING"), r::toString);
        assertTrue(r.out().contains("processes"), r::toString);
    }

    @Test
    void statusJsonPrintsCountsAsIntegers() {
        assertEquals(0, cli.run("run", "--", "true").code());
        Cli.Result r = cli.run("status", "--json");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().matches("(?s)\\{.*\"processes\": [1-9][0-9]*,.*\"exited\": [1-9][0-9]*.*\\}\\s*"), r::toString);
        assertTrue(!r.out().matches("(?s).*\": [0-9]+\\.[0-9].*"), r::toString);
    }

    @Test
    void anUnreachableServerExits3WithAHint() {
        Cli.Result r = cli.run("ps", "--address", "unix:" + server.dir.resolve("nobody.sock"));
        assertEquals(3, r.code(), r::toString);
        assertOneLine(r);
        assertTrue(r.err().contains("nobody.sock"), r::toString);
    }

    @Test
    void serveOnTcpWithoutATokenRefusesToStart() {
        Cli.Result r = cli.run("serve", "--listen", "127.0.0.1:0");
        assertEquals(2, r.code(), r::toString);
        assertOneLine(r);
        assertTrue(r.err().contains("--token-file"), r::toString);
        assertEquals("", r.out(), r::toString);
    }
}
