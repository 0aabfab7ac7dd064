package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code forkd map} as GNU parallel users expect it, against a real {@code forkd serve}. The expected
 * outputs are what GNU parallel 20221122 (Debian's {@code parallel}) prints for the same command line.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MapCliTest {

    private RunningServer server;
    private Cli cli;

    @BeforeAll
    void start() throws Exception {
        server = RunningServer.start();
        cli = Cli.against(server);
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private Cli.Result ok(String... args) {
        var r = cli.run(args);
        assertEquals(0, r.code(), r.toString());
        return r;
    }

    @Test
    void jobNumbersCountFromOne() {
        assertEquals("1 a\n2 b\n3 c\n", ok("map", "-k", "--", "echo", "{#}", "{}", ":::", "a", "b", "c").out());
        // The same when the item goes to stdin and only {#} is in the command.
        assertEquals("1:a\n2:b\n", ok("map", "-k", "--stdin-item", "--", "sh", "-c", "echo {#}:$(cat)", ":::", "a", "b").out());
    }

    @Test
    void aFailedJobsStdoutAndASucceededJobsStderrAreShown() {
        var r = cli.run("map", "-k", "-j", "1", "--", "sh", "-c", "echo out {}; echo err {} >&2; [ {} != b ]", ":::", "a", "b");
        assertEquals(1, r.code(), r.toString());
        assertEquals("out a\nout b\n", r.out());
        assertEquals("err a\nerr b\nforkd: job 2 (\"b\") failed: exit code 1\n", r.err());
    }

    @Test
    void severalSourcesMakeEveryCombinationTheLastVaryingFastest() {
        assertEquals("a 1\na 2\nb 1\nb 2\n", ok("map", "-k", "--", "echo", ":::", "a", "b", ":::", "1", "2").out());
        // Each value is its own argument, and {N} names one source.
        assertEquals("1-a\n2-a\n1-b\n2-b\n",
                ok("map", "-k", "--", "printf", "%s-%s\\n", "{2}", "{1}", ":::", "a", "b", ":::", "1", "2").out());
        assertEquals("1 a 1\n2 a 2\n3 b 1\n4 b 2\n", ok("map", "-k", "--", "echo", "{#}", "{}", ":::", "a", "b", ":::", "1", "2").out());
    }

    @Test
    void aLinkedSourceIsPairedValueByValueAndTheShorterDecides() {
        assertEquals("a 1\nb 2\n", ok("map", "-k", "--", "echo", ":::", "a", "b", "c", ":::+", "1", "2").out());
        assertEquals("a 1\nb 2\n", ok("map", "-k", "--", "echo", ":::", "a", "b", ":::+", "1", "2", "3").out());
        assertEquals("x a 1\nx b 2\ny a 1\ny b 2\n",
                ok("map", "-k", "--", "echo", ":::", "x", "y", ":::", "a", "b", "c", ":::+", "1", "2").out());
        var first = cli.run("map", "--", "echo", ":::+", "1");
        assertEquals(2, first.code(), first.toString());
        assertTrue(first.err().contains("':::+' links"), first.toString());
        var files = cli.run("map", "--", "echo", "::::", "list.txt");
        assertEquals(2, files.code(), files.toString());
    }

    @Test
    void noJobsWhenASourceIsEmpty() {
        var r = ok("map", "--", "echo", ":::", "a", ":::");
        assertEquals("", r.out());
    }

    @Test
    void tagStartsEachLineWithTheArgumentsAndATab() {
        assertEquals("a 1\ta 1\na 2\ta 2\nb 1\tb 1\nb 2\tb 2\n",
                ok("map", "-k", "--tag", "--", "echo", ":::", "a", "b", ":::", "1", "2").out());
        var r = cli.run("map", "-k", "--tag", "--", "sh", "-c", "echo x; echo y; echo e >&2; exit {}", ":::", "0", "3");
        assertEquals(1, r.code(), r.toString());
        assertEquals("0\tx\n0\ty\n3\tx\n3\ty\n", r.out());
        assertTrue(r.err().startsWith("0\te\n3\te\n"), r.toString());
    }

    @Test
    void resultsKeepEachJobsOutputInGnuParallelsLayout(@TempDir Path dir) throws Exception {
        Path results = dir.resolve("res");
        var r = cli.run("map", "-k", "--results", results.toString(), "--", "sh", "-c",
                "echo out {1}{2}; echo err >&2; [ {2} = 1 ]", ":::", "a", "b/c", ":::", "1", "2");
        assertEquals(2, r.code(), r.toString());
        assertEquals("out a1\n", Files.readString(results.resolve("1/a/2/1/stdout")));
        assertEquals("err\n", Files.readString(results.resolve("1/a/2/1/stderr")));
        assertEquals("1", Files.readString(results.resolve("1/a/2/1/seq")));
        assertEquals("out b/c2\n", Files.readString(results.resolve("1/b\\_c/2/2/stdout")), "a failed job's too");
        assertEquals("4", Files.readString(results.resolve("1/b\\_c/2/2/seq")));
        // One source: one level.
        ok("map", "--results", results.resolve("one").toString(), "--", "echo", ":::", "x", "");
        assertEquals("x\n", Files.readString(results.resolve("one/1/x/stdout")));
        assertEquals("\n", Files.readString(results.resolve("one/1/\\/stdout")), "an empty value has a directory of its own");
    }

    @Test
    void resumeFailedRunsOnlyTheJobsNotYetSucceededWithTheirNumbers(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("jobs.log");
        var first = cli.run("map", "-k", "--joblog", log.toString(), "--", "sh", "-c", "echo run {#} {}; exit {}",
                ":::", "0", "1", "0", "2");
        assertEquals(2, first.code(), first.toString());
        assertEquals(5, Files.readAllLines(log).size());

        // Jobs 2 and 4 failed, job 5 is new: only they run, numbered as before, and the log grows.
        var again = cli.run("map", "-k", "--joblog", log.toString(), "--resume-failed", "--", "sh", "-c",
                "echo again {#} {}", ":::", "0", "1", "0", "2", "5");
        assertEquals(0, again.code(), again.toString());
        assertEquals("again 2 1\nagain 4 2\nagain 5 5\n", again.out());
        List<String> rows = Files.readAllLines(log);
        assertEquals(JobLog.HEADER, rows.getFirst());
        assertEquals(8, rows.size(), rows.toString());
        assertEquals(List.of("2", "4", "5"), rows.subList(5, 8).stream().map(l -> l.split("\t")[0]).toList());
        assertEquals("sh -c 'echo again 4 2'", rows.get(6).split("\t")[8]);

        // Everything has succeeded now: nothing runs.
        var done = cli.run("map", "--joblog", log.toString(), "--resume-failed", "--", "sh", "-c", "echo {}",
                ":::", "0", "1", "0", "2", "5");
        assertEquals(0, done.code(), done.toString());
        assertEquals("", done.out());
        assertEquals(8, Files.readAllLines(log).size());

        var noLog = cli.run("map", "--resume-failed", "--", "echo", ":::", "a");
        assertEquals(2, noLog.code(), noLog.toString());
    }

    @Test
    void resumeFailedReadsStdinJobsByTheirLineNumber(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("jobs.log");
        byte[] in = "1\n2\n3\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var first = cli.withStdin(in, "map", "-k", "--joblog", log.toString(), "--", "sh", "-c", "[ {} != 2 ]");
        assertEquals(1, first.code(), first.toString());
        var again = cli.withStdin(in, "map", "-k", "--joblog", log.toString(), "--resume-failed", "--", "echo", "redo");
        assertEquals(0, again.code(), again.toString());
        assertEquals("redo 2\n", again.out());
        assertFalse(again.err().contains("failed"), again.toString());
    }
}
