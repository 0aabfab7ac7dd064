package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code forkd restart ID...} and {@code forkd logs --since}, as a user types them, against a real server. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RestartCliTest extends AgainstOneServer {

    private String spawn(String... command) {
        List<String> args = new ArrayList<>(List.of("spawn", "--"));
        args.addAll(List.of(command));
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r::toString);
        spawned.add(r.out().strip());
        return r.out().strip();
    }

    private ProcessInfo get(String id) throws Exception {
        Cli.Result r = cli.run("get", "--json", id);
        assertEquals(0, r.code(), r::toString);
        ProcessInfo.Builder p = ProcessInfo.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(r.out(), p);
        return p.build();
    }

    /** Waits (bounded) until the process's log holds {@code text}; returns the log. */
    private String awaitLogs(String id, String text) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Cli.Result r = cli.run("logs", id);
        while (!r.out().contains(text)) {
            assertTrue(System.nanoTime() < end, "no \"" + text + "\" in the log of " + id + ": " + r);
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
            r = cli.run("logs", id);
        }
        return r.out();
    }

    @Test
    void restartTakesSeveralIdsAndReportsARefusalOnItsOwnLine() throws Exception {
        String a = spawn("sleep", "1000");
        String b = spawn("sleep", "1000");
        ProcessInfo aBefore = get(a);
        Cli.Result r = cli.run("restart", a, "p-999999", b);
        assertEquals(ExitCodes.REFUSED, r.code(), r::toString);
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r::toString);
        ProcessInfo aAfter = get(a);
        assertEquals(a + " pid " + aAfter.getPid(), lines.get(0));
        assertTrue(lines.get(1).startsWith(b + " pid "), r::toString);
        assertTrue(r.err().startsWith("forkd: p-999999: ") && r.err().lines().count() == 1, r::toString);
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, aAfter.getState());
        assertNotEquals(aBefore.getPid(), aAfter.getPid());
        assertEquals(1, aAfter.getRestartCount());
        assertEquals(1, get(b).getRestartCount());
    }

    @Test
    void restartJsonPrintsTheNewRecordAndAnUnknownIdAloneExits1() throws Exception {
        String id = spawn("sleep", "1000");
        Cli.Result r = cli.run("restart", "--json", "--grace", "1s", id);
        assertEquals(0, r.code(), r::toString);
        ProcessInfo.Builder p = ProcessInfo.newBuilder();
        JsonFormat.parser().merge(r.out(), p);
        assertEquals(id, p.getId());
        assertEquals(1, p.getRestartCount());
        assertEquals(ProcessState.PROCESS_STATE_RUNNING, p.getState());
        Cli.Result unknown = cli.run("restart", "p-999999");
        assertEquals(ExitCodes.REFUSED, unknown.code(), unknown::toString);
        assertTrue(unknown.err().startsWith("forkd: "), unknown::toString);
        Cli.Result usage = cli.run("restart");
        assertEquals(ExitCodes.USAGE, usage.code(), usage::toString);
    }

    @Test
    void anEndedProcessRunsAgainUnderItsName() throws Exception {
        Cli.Result spawned = cli.run("spawn", "--name", "again", "--", "sh", "-c", "echo ran");
        assertEquals(0, spawned.code(), spawned::toString);
        String id = spawned.out().strip();
        assertEquals(0, cli.run("wait", id).code());
        Cli.Result r = cli.run("restart", "again");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().startsWith(id + " "), r::toString);
        assertEquals(0, cli.run("wait", id).code());
        assertEquals("ran\nran\n", cli.run("logs", id).out());
        assertEquals(1, get(id).getRestartCount());
        cli.run("rm", id);
    }

    @Test
    void logsSinceShowsOnlyWhatCameThenOrLater() throws Exception {
        Path go = Files.createTempFile(server.dir, "go", "");
        Files.delete(go);
        assertEquals(0, new ProcessBuilder("mkfifo", go.toString()).start().waitFor());
        String id = spawn("sh", "-c", "echo one; read x < " + go + "; echo two; echo err >&2");
        awaitLogs(id, "one");
        Instant between = Instant.now();
        Files.writeString(go, "go\n", StandardCharsets.UTF_8);
        assertEquals(0, cli.run("wait", id).code());

        Cli.Result since = cli.run("logs", "--since", between.toString(), id);
        assertEquals(0, since.code(), since::toString);
        assertEquals("two\n", since.out(), since::toString);
        assertEquals("err\n", since.err(), since::toString);
        assertEquals("one\ntwo\n", cli.run("logs", "--since", "1h", id).out());
        Cli.Result tail = cli.run("logs", "--since", between.toString(), "--tail", "1", id);
        assertEquals("", tail.out(), tail::toString);
        assertEquals("err\n", tail.err(), tail::toString);
        assertEquals("two\n", cli.run("logs", "-f", "--since", between.toString(), id).out());
        assertEquals("", cli.run("logs", "--since", Instant.now().plusSeconds(3600).toString(), id).out());
        Cli.Result bad = cli.run("logs", "--since", "yesterday", id);
        assertEquals(ExitCodes.USAGE, bad.code(), bad::toString);
        assertTrue(bad.err().contains("--since"), bad::toString);
    }
}
