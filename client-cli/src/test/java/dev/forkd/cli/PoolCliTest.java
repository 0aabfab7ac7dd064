package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.forkd.v1.ListPoolsResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code forkd map} and {@code forkd pool} as a user types them, against a real {@code forkd serve}. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PoolCliTest {

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

    private static String[] args(List<String> head, IntStream items) {
        return Stream.concat(head.stream(), Stream.concat(Stream.of(":::"), items.mapToObj(Integer::toString)))
                .toArray(String[]::new);
    }

    private static List<String> lines(String s) {
        return s.lines().toList();
    }

    @Test
    void mapWorkersInheritTheCallersEnvironment() {
        var r = cli.withEnv("FORKD_CALLER_VAR", "from-shell")
                .run("map", "-j", "2", "--keep-order", "--", "sh", "-c", "echo \"$FORKD_CALLER_VAR-{}\"", ":::", "a", "b");
        assertEquals(0, r.code(), r::toString);
        assertEquals("from-shell-a\nfrom-shell-b\n", r.out(), r::toString);
        var clean = cli.withEnv("FORKD_CALLER_VAR", "from-shell")
                .run("map", "--clean-env", "--", "sh", "-c", "echo \"[$FORKD_CALLER_VAR]\"", ":::", "a");
        assertEquals(0, clean.code(), clean::toString);
        assertEquals("[]\n", clean.out(), clean::toString);
    }

    @Test
    void squaresOfArgumentItemsComeInInputOrderWithKeepOrder() {
        var r = cli.run(args(List.of("map", "-j", "3", "--keep-order", "--", "sh", "-c", "echo $(( {} * {} ))"),
                IntStream.rangeClosed(1, 60)));
        assertEquals(0, r.code(), r.toString());
        assertEquals(IntStream.rangeClosed(1, 60).mapToObj(i -> Integer.toString(i * i)).toList(), lines(r.out()),
                r.toString());
        assertEquals("", r.err());
    }

    @Test
    void stdinItemsAllComeBackOnceInAnyOrder() {
        String in = IntStream.rangeClosed(1, 300).mapToObj(Integer::toString).collect(Collectors.joining("\n")) + "\n";
        var r = cli.withStdin(in.getBytes(StandardCharsets.UTF_8), "map", "-j", "4", "--", "sh", "-c", "echo x{}");
        assertEquals(0, r.code(), r.toString());
        List<String> got = new ArrayList<>(lines(r.out()));
        got.sort(null);
        List<String> want = new ArrayList<>(IntStream.rangeClosed(1, 300).mapToObj(i -> "x" + i).toList());
        want.sort(null);
        assertEquals(want, got);
    }

    @Test
    void itemIsTheLastArgumentWhenThereIsNoPlaceholderAndNulSeparatesItems() {
        byte[] in = "a b\0c\nd\0e".getBytes(StandardCharsets.UTF_8);
        var r = cli.withStdin(in, "map", "-k", "--null", "printf", "[%s]");
        assertEquals(0, r.code(), r.toString());
        assertEquals("[a b][c\nd][e]", r.out());
    }

    @Test
    void exitStatusIsTheNumberOfFailedTasksAndEachFailureIsOneLine() {
        var r = cli.run(args(List.of("map", "-j", "2", "-k", "--", "sh", "-c",
                "if [ $(( {} % 3 )) -eq 0 ]; then echo \"no {}\" >&2; exit 7; fi; echo {}"), IntStream.rangeClosed(1, 10)));
        assertEquals(3, r.code(), r.toString());
        assertEquals(List.of("1", "2", "4", "5", "7", "8", "10"), lines(r.out()));
        // Each failed job's stderr, whole, then the line that says it failed.
        assertEquals(List.of("no 3", "forkd: job 3 (\"3\") failed: exit code 7", "no 6",
                "forkd: job 6 (\"6\") failed: exit code 7", "no 9", "forkd: job 9 (\"9\") failed: exit code 7"),
                lines(r.err()), r.toString());
    }

    @Test
    void exitStatusIsCappedAt101() {
        var r = cli.run(args(List.of("map", "-j", "4", "--", "false"), IntStream.rangeClosed(1, 103)));
        assertEquals(101, r.code(), r.err());
        assertEquals(103, lines(r.err()).size());
    }

    @Test
    void retriesRunAFailedTaskAgain(@TempDir Path dir) {
        // Each task fails on its first run (leaving a mark) and succeeds on its second.
        String script = "if [ -e " + dir + "/{} ]; then echo ok {}; else touch " + dir + "/{}; exit 1; fi";
        var without = cli.run("map", "-k", "--", "sh", "-c", script, ":::", "a", "b");
        assertEquals(2, without.code(), without.toString());
        var with = cli.run("map", "-k", "--retries", "1", "--", "sh", "-c", script, ":::", "c", "d");
        assertEquals(0, with.code(), with.toString());
        assertEquals("ok c\nok d\n", with.out());
    }

    @Test
    void joblogHasAHeaderAndALinePerTask(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("jobs.tsv");
        long before = System.currentTimeMillis() / 1000;
        var r = cli.run("map", "-k", "--joblog", log.toString(), "--", "sh", "-c", "exit {}", ":::", "0", "3", "0");
        assertEquals(1, r.code(), r.toString());
        List<String> rows = Files.readAllLines(log);
        assertEquals(List.of("Seq", "Host", "Starttime", "JobRuntime", "Send", "Receive", "Exitval", "Signal", "Command"),
                List.of(rows.get(0).split("\t")));
        assertEquals(4, rows.size(), rows.toString());
        List<String> seqs = new ArrayList<>();
        for (String row : rows.subList(1, 4)) {
            String[] f = row.split("\t");
            assertEquals(9, f.length, row);
            seqs.add(f[0]);
            assertTrue(f[1].startsWith("a-"), "host is the agent: " + row);
            double started = Double.parseDouble(f[2]);
            assertTrue(started >= before && started <= System.currentTimeMillis() / 1000.0 + 1, row);
            assertTrue(Double.parseDouble(f[3]) >= 0, row);
            assertEquals("1", f[4], row);
            String code = f[0].equals("2") ? "3" : "0";
            assertEquals(code, f[6], row);
            assertEquals("0", f[7], row);
            assertEquals("sh -c 'exit " + code + "'", f[8], row);
        }
        seqs.sort(null);
        assertEquals(List.of("1", "2", "3"), seqs);
    }

    @Test
    void haltOnErrorStartsNoTaskAfterTheFirstFailure() {
        var r = cli.run(args(List.of("map", "-j", "1", "-k", "--halt-on-error", "--", "sh", "-c",
                "if [ {} -eq 3 ]; then exit 1; fi; echo {}"), IntStream.rangeClosed(1, 50)));
        assertEquals(1, r.code(), r.toString());
        assertEquals(List.of("1", "2"), lines(r.out()));
        assertTrue(r.err().contains("job 3 (\"3\") failed: exit code 1"), r.err());
        assertTrue(r.err().contains("halted"), r.err());
    }

    @Test
    void persistentPythonWorkerAnswersEveryLineInOrder() {
        String worker = "import sys\nfor line in sys.stdin:\n    print(int(line) * 2, flush=True)\n";
        String in = IntStream.range(0, 5000).mapToObj(Integer::toString).collect(Collectors.joining("\n")) + "\n";
        var r = cli.withStdin(in.getBytes(StandardCharsets.UTF_8),
                "map", "-j", "2", "-k", "--persistent", "--chunksize", "16", "--", "python3", "-c", worker);
        assertEquals(0, r.code(), r.toString());
        assertEquals(IntStream.range(0, 5000).mapToObj(i -> Integer.toString(i * 2)).toList(), lines(r.out()));
    }

    @Test
    void usageErrorsExit2WithOneLine() {
        for (String[] bad : List.of(new String[] {"map"}, new String[] {"map", "--retries", "x", "--", "echo"},
                new String[] {"map", "--pool", "p", "-j", "2"}, new String[] {"map", "--pool", "p", "--", "echo"},
                new String[] {"map", "--clean-env", "--pool", "p", ":::", "a"})) {
            var r = cli.run(bad);
            assertEquals(2, r.code(), String.join(" ", bad) + "\n" + r);
            assertEquals(1, lines(r.err()).size(), r.toString());
            assertTrue(r.err().startsWith("forkd: "), r.toString());
        }
    }

    @Test
    void aServerRefusalExits1WithItsReason() {
        var r = cli.run("map", "--pool", "no-such-pool", ":::", "a");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().startsWith("forkd: ") && r.err().contains("no-such-pool"), r.toString());
        assertEquals(1, lines(r.err()).size(), r.toString());
    }

    @Test
    void longLivedPoolIsCreatedListedFedClosedAndRemoved() throws Exception {
        var created = cli.run("pool", "create", "--name", "sq", "-j", "2", "--", "sh", "-c", "echo $(( {} * {} ))");
        assertEquals(0, created.code(), created.toString());
        String id = created.out().strip();
        assertTrue(id.startsWith("pool-"), created.toString());

        var ls = cli.run("pool", "ls");
        assertEquals(0, ls.code(), ls.toString());
        assertTrue(ls.out().lines().anyMatch(l -> l.startsWith(id + " ") && l.contains(" sq ") && l.contains("running")),
                ls.out());
        var json = cli.run("pool", "ls", "--json");
        ListPoolsResponse.Builder parsed = ListPoolsResponse.newBuilder();
        JsonFormat.parser().merge(json.out(), parsed);
        assertTrue(parsed.getPoolsList().stream().anyMatch(p -> p.getId().equals(id) && p.getProcesses() == 2),
                json.out());

        var mapped = cli.run("map", "--pool", "sq", "-k", ":::", "3", "4");
        assertEquals(0, mapped.code(), mapped.toString());
        assertEquals("9\n16\n", mapped.out());

        var get = cli.run("pool", "get", "sq");
        assertTrue(get.out().contains("2 succeeded"), get.out());

        var early = cli.run("pool", "rm", id);
        assertEquals(1, early.code(), "a running pool is not removed: " + early);

        var closed = cli.run("pool", "close", "--wait", "sq");
        assertEquals(0, closed.code(), closed.toString());
        assertTrue(cli.run("pool", "get", id).out().contains("ended"));
        var rm = cli.run("pool", "rm", "sq");
        assertEquals(0, rm.code(), rm.toString());
        assertEquals(id + "\n", rm.out());
        assertFalse(cli.run("pool", "ls").out().contains(id + " "));
        assertEquals(1, cli.run("pool", "get", id).code());
    }

    @Test
    void rmForceTerminatesARunningPersistentPool() {
        var created = cli.run("pool", "create", "--persistent", "-j", "2", "--", "cat");
        assertEquals(0, created.code(), created.toString());
        String id = created.out().strip();
        assertEquals("echoed\n", cli.run("map", "--pool", id, ":::", "echoed").out());
        var rm = cli.run("pool", "rm", "--force", id);
        assertEquals(0, rm.code(), rm.toString());
        assertEquals(1, cli.run("pool", "get", id).code());
    }

    /** The forkd CLI as its own process (so its stderr is a real pipe or terminal), with its output. */
    private Cli.Result process(List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("FORKD_ADDRESS", server.address());
        pb.environment().remove("FORKD_TOKEN");
        pb.environment().remove("FORKD_SESSION");
        Process p = pb.start();
        var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI did not finish");
        return new Cli.Result(p.exitValue(), out.get(), err.get());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> forkd(String... args) {
        List<String> command = new ArrayList<>(RunningServer.javaCommand());
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        return command;
    }

    @Test
    void noProgressWhenStderrIsAPipe() throws Exception {
        var r = process(forkd("map", "-k", "--", "echo", ":::", "a", "b", "c"));
        assertEquals(0, r.code(), r.toString());
        assertEquals("a\nb\nc\n", r.out());
        assertEquals("", r.err());
    }

    @Test
    void progressOnATerminalShowsDoneOverTotal() throws Exception {
        // script(1) runs the command on a pseudo-terminal and copies what it wrote to our stdout.
        String line = forkd("map", "-k", "--", "echo", ":::", "a", "b", "c").stream()
                .map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        var r = process(List.of("script", "-qec", line, "/dev/null"));
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("3/3"), r.toString());
        assertTrue(r.out().contains("/s"), r.toString());
    }

    @Test
    void progressOnATerminalNeverRunsIntoTheResults() throws Exception {
        // stdout and stderr are the same terminal: each result must stay a whole line of its own,
        // and the progress line be the last, drawn over itself (never "...ETA 38sdone 1").
        String line = forkd("map", "-k", "-j", "2", "--", "sh", "-c", "echo done {}", ":::", "1", "2", "3", "4", "5", "6")
                .stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        var r = process(List.of("script", "-qec", line, "/dev/null"));
        assertEquals(0, r.code(), r.toString());
        List<String> screen = Screen.lines(r.out());
        assertEquals(List.of("done 1", "done 2", "done 3", "done 4", "done 5", "done 6"), screen.subList(0, 6),
                r.out().replace("\033", "<ESC>"));
        assertEquals(7, screen.size(), screen.toString());
        assertTrue(screen.get(6).contains("6/6"), screen.toString());
    }
}
