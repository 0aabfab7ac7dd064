package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.forkd.v1.ListProcessesResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue 15: the CLI behaves like the tools people know (global options first, ps -q, several ids, ...). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliConventionsTest extends AgainstOneServer {

    private String sleeper(String... labels) {
        List<String> args = new ArrayList<>(List.of("spawn"));
        for (String label : labels) {
            args.addAll(List.of("-l", label));
        }
        args.addAll(List.of("--", "sleep", "300"));
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r::toString);
        String id = r.out().strip();
        spawned.add(id);
        return id;
    }

    @Test
    void clientOptionsMayComeBeforeTheSubcommand() throws Exception {
        String label = "k=" + UUID.randomUUID();
        String id = sleeper(label);
        // --address before the command: the CLI without FORKD_ADDRESS would look at the default socket.
        Cli.Result r = cli.withEnv("FORKD_ADDRESS", "").run(
                "--address", server.address(), "--json", "ps", "-l", label);
        assertEquals(0, r.code(), r::toString);
        ListProcessesResponse.Builder parsed = ListProcessesResponse.newBuilder();
        JsonFormat.parser().merge(r.out(), parsed);
        assertEquals(List.of(id), parsed.getProcessesList().stream().map(p -> p.getId()).toList(), r::toString);

        Cli.Result nested = cli.run("--json", "value", "set", "v-" + UUID.randomUUID(), "7");
        assertEquals(0, nested.code(), nested::toString);
        assertTrue(nested.out().strip().startsWith("{"), () -> "a nested command gets --json too: " + nested);

        Cli.Result equalsForm = cli.run("--address=" + server.address(), "ps", "-q", "-l", label);
        assertEquals(id + "\n", equalsForm.out(), equalsForm::toString);
    }

    @Test
    void aLeadingOptionTheCommandDoesNotTakeIsStillAUsageError() {
        Cli.Result r = cli.run("--json", "serve");
        assertEquals(ExitCodes.USAGE, r.code(), r::toString);
        assertTrue(r.err().contains("--json"), r::toString);
        // After the command's words, --json belongs to the child: run passes it through.
        Cli.Result child = cli.run("run", "--", "echo", "--json");
        assertEquals("--json\n", child.out(), child::toString);
    }

    @Test
    void versionIsPrintedWithoutTheCommandsAndHelpStillListsThemAll() {
        for (String option : List.of("--version", "-V")) {
            Cli.Result version = cli.run(option);
            assertEquals(ExitCodes.OK, version.code(), version::toString);
            assertTrue(version.out().startsWith("forkd "), version::toString);
            assertEquals(1, version.out().lines().count(), version::toString);
        }
        Cli.Result help = cli.run("--help");
        assertEquals(ExitCodes.OK, help.code(), help::toString);
        assertTrue(help.out().contains("  ps ") && help.out().contains("  shutdown "), help::toString);
    }

    @Test
    void aMistypedCommandGetsASuggestion() {
        Cli.Result r = cli.run("pss");
        assertEquals(ExitCodes.USAGE, r.code(), r::toString);
        assertTrue(r.err().contains("did you mean 'ps'"), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);
    }

    @Test
    void psQuietPrintsIdsAndFormatPrintsTheChosenFields() {
        String label = "k=" + UUID.randomUUID();
        String a = sleeper(label);
        String b = sleeper(label);
        Cli.Result quiet = cli.run("ps", "-q", "-l", label);
        assertEquals(0, quiet.code(), quiet::toString);
        assertEquals(Set.of(a, b), Set.copyOf(quiet.out().lines().toList()), quiet::toString);

        Cli.Result format = cli.run("ps", "--format", "id,state", "-l", label);
        assertEquals(0, format.code(), format::toString);
        assertEquals(Set.of(a + "\trunning", b + "\trunning"), Set.copyOf(format.out().lines().toList()), format::toString);

        Cli.Result bad = cli.run("ps", "--format", "id,colour");
        assertEquals(ExitCodes.USAGE, bad.code(), bad::toString);
        assertTrue(bad.err().contains("colour") && bad.err().contains("runtime"), bad::toString);
    }

    @Test
    void aGraceOrTimeoutOfCenturiesMeansNoLimitAndIsNotAnError() {
        String a = sleeper();
        // Past about 292 years a duration overflows nanoseconds: these used to fail inside the client.
        Cli.Result killed = cli.run("kill", "--grace", "P1000000D", a);
        assertEquals(0, killed.code(), killed::toString);
        Cli.Result waited = cli.run("wait", "--timeout", "200000d200000d", a);
        assertEquals(128 + 15, waited.code(), () -> "SIGTERM ended it, and the wait saw it: " + waited);
    }

    @Test
    void killWaitAndRmTakeSeveralIdsAndExitWithTheWorst() {
        String a = sleeper();
        String b = sleeper();
        Cli.Result killed = cli.run("kill", a, "p-nosuch", b);
        assertEquals(ExitCodes.REFUSED, killed.code(), killed::toString);
        assertTrue(killed.err().contains("p-nosuch"), killed::toString);
        assertEquals(1, killed.err().lines().count(), () -> "one line for the missing one: " + killed);

        Cli.Result waited = cli.run("wait", "--timeout", "30s", a, b);
        assertEquals(128 + 15, waited.code(), () -> "both were killed, so both ended by SIGTERM: " + waited);
        assertEquals(2, waited.out().lines().count(), waited::toString);

        Cli.Result removed = cli.run("rm", a, b);
        assertEquals(0, removed.code(), removed::toString);
        assertEquals(List.of(a, b), removed.out().lines().toList(), removed::toString);
    }

    @Test
    void aWaitThatTimesOutSaysTheTimeoutAsWritten() {
        String id = sleeper();
        Cli.Result r = cli.run("wait", "--timeout", "1.5s", id);
        assertEquals(ExitCodes.STILL_RUNNING, r.code(), r::toString);
        assertTrue(r.err().contains("after 1.5s"), r::toString);
    }

    private String ended(String script) {
        Cli.Result r = cli.run("spawn", "--", "sh", "-c", script);
        String id = r.out().strip();
        spawned.add(id);
        Cli.Result waited = cli.run("wait", "--timeout", "30s", id);
        assertTrue(waited.code() != ExitCodes.STILL_RUNNING, waited::toString);
        return id;
    }

    @Test
    void logsTailPrintsTheLastLinesAndFollowGoesOnFromThere() {
        String id = ended("for i in 1 2 3 4 5; do echo $i; done; printf tail");
        Cli.Result last3 = cli.run("logs", "--tail", "3", id);
        assertEquals(0, last3.code(), last3::toString);
        assertEquals("4\n5\ntail", last3.out(), () -> "an unterminated last line counts, as in tail(1): " + last3);

        Cli.Result followed = cli.run("logs", "-f", "-n", "2", id);
        assertEquals(0, followed.code(), followed::toString);
        assertEquals("5\ntail", followed.out(), () -> "the tail once, then nothing more: " + followed);

        assertEquals("1\n2\n3\n4\n5\ntail", cli.run("logs", "--tail", "100", id).out());
        assertEquals("", cli.run("logs", "--tail", "0", id).out());
        assertEquals(ExitCodes.USAGE, cli.run("logs", "--tail", "-1", id).code());

        // The two streams are one log; each line still goes to its own stream.
        String errors = ended("echo x >&2; echo y >&2");
        Cli.Result lastError = cli.run("logs", "--tail", "1", errors);
        assertEquals("", lastError.out(), lastError::toString);
        assertEquals("y\n", lastError.err(), lastError::toString);
    }

    @Test
    void helpWrapsParagraphsNotSourceLines() {
        Cli.Result r = cli.run("kill", "--help");
        assertEquals(0, r.code(), r::toString);
        // The description's source breaks after "period;": the help must not.
        assertTrue(r.out().lines().anyMatch(l -> l.contains("grace period; KILL")), r::toString);
        assertEquals(List.of("a b.", "c: ", "d"), HelpText.paragraphs(List.of("a", "b.", "c: ", "d")));
    }

    @Test
    void theServerLogTellsEachProcesssStartAndEndOnOneLine() throws Exception {
        String id = ended("exit 3");
        String started = "process " + id + " started";
        String endedLine = "process " + id + " ended";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        // No event to wait on: the log is a file the server writes.
        while (!(server.stderr().contains(started) && server.stderr().contains(endedLine))) {
            assertTrue(System.nanoTime() < deadline, () -> "no start and end lines for " + id + ":\n" + server.stderr());
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
        String end = server.stderr().lines().filter(l -> l.contains(endedLine)).findFirst().orElseThrow();
        assertTrue(end.contains("cause=exited") && end.contains("exit_code=3"), end);
    }

    @Test
    void locksAndValuesAreListedAndDeletedByName() {
        String lock = "l-" + UUID.randomUUID();
        assertEquals(0, cli.run("with-lock", lock, "--", "true").code());
        Cli.Result listed = cli.run("lock", "ls");
        assertEquals(0, listed.code(), listed::toString);
        assertTrue(listed.out().lines().anyMatch(l -> l.startsWith(lock + " ") && l.contains(" lock ")), listed::toString);

        String event = "e-" + UUID.randomUUID();
        assertEquals(0, cli.run("event", "set", event).code());
        Cli.Result notALock = cli.run("lock", "rm", event);
        assertEquals(ExitCodes.REFUSED, notALock.code(), notALock::toString);
        Cli.Result removed = cli.run("lock", "rm", lock);
        assertEquals(lock + "\n", removed.out(), removed::toString);
        assertTrue(cli.run("lock", "ls").out().lines().noneMatch(l -> l.startsWith(lock + " ")));

        String a = "v-" + UUID.randomUUID();
        String b = "v-" + UUID.randomUUID();
        String dict = "d-" + UUID.randomUUID();
        assertEquals(0, cli.run("value", "set", a, "1").code());
        assertEquals(0, cli.run("value", "set", b, "x").code());
        assertEquals(0, cli.run("dict", "set", dict, "k", "v").code());
        Cli.Result values = cli.run("value", "ls");
        assertTrue(values.out().contains(a + " ") && values.out().contains(b + " ") && !values.out().contains(dict),
                values::toString);
        Cli.Result gone = cli.run("value", "rm", a, dict, b);
        assertEquals(ExitCodes.REFUSED, gone.code(), () -> "a dict is not a value: " + gone);
        assertEquals(List.of(a, b), gone.out().lines().toList(), gone::toString);
        assertEquals(ExitCodes.REFUSED, cli.run("value", "get", a).code());
        assertEquals(0, cli.run("dict", "get", dict, "k").code(), "the dict is still there");
    }

    @Test
    void withSemRunsACommandHoldingAPermit() throws Exception {
        String sem = "s-" + UUID.randomUUID();
        java.nio.file.Path said = server.dir.resolve(sem);
        // The command is a local child with our real stdout: it writes where the test can read.
        Cli.Result r = cli.run("with-sem", "--value", "2", sem, "--", "sh", "-c", "echo $FORKD_LOCK > " + said + "; exit 4");
        assertEquals(4, r.code(), r::toString);
        assertEquals(sem + "\n", java.nio.file.Files.readString(said), r::toString);
        Cli.Result status = cli.run("--json", "lock", "status", sem);
        assertTrue(status.out().contains("SYNC_KIND_SEMAPHORE") && status.out().contains("\"value\": 2"),
                () -> "both permits are back: " + status);
        assertEquals(0, cli.run("with-sem", sem, "--", "true").code(), "an existing semaphore, no --value");
        assertEquals(ExitCodes.USAGE, cli.run("with-sem", "--value", "0", sem, "--", "true").code());
    }
}
