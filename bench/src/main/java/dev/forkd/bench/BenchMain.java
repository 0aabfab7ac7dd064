package dev.forkd.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench/run}: starts a forkd server of its own, runs every scenario against forkd and its
 * peers, and prints the table of figures and ratios, then one JSON object per row. Progress goes to
 * stderr; the report to stdout. Exits 1 when a measurement failed (a target missed is a figure, not
 * a failure).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks forkd side by side with its peers (Python multiprocessing and subprocess,"
                + " C posix_spawn, cat, xargs, GNU parallel) on this machine, as ratios measured in one run.")
public final class BenchMain implements Callable<Integer> {

    @Option(names = "--quick", description = "Smaller sizes and 3 rounds: a smoke run in under two minutes.")
    boolean quick;

    @Option(names = "--only", split = ",", paramLabel = "NAME",
            description = "Only these scenarios (a name or its prefix: spawn, output, queue, sync, pool, footprint).")
    List<String> only = new ArrayList<>();

    @Option(names = "--rounds", paramLabel = "N", description = "Measured rounds per scenario (default 3 quick, 7 full).")
    Integer rounds;

    @Option(names = "--list", description = "List the scenarios and exit.")
    boolean list;

    @Option(names = "--server-jvm", paramLabel = "OPT",
            description = "Another JVM option for the server under test (e.g. -XX:StartFlightRecording=...).")
    List<String> serverJvm = new ArrayList<>();

    @Option(names = "--peers", paramLabel = "DIR", description = "The peer programs (default: bench/peers of this checkout).")
    Path peers;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        List<Scenario> chosen = Scenarios.all().stream()
                .filter(s -> only.isEmpty() || only.stream().anyMatch(o -> s.name().startsWith(o)))
                .toList();
        if (list) {
            Scenarios.all().forEach(s -> out.printf("%-14s %s%n", s.name(), s.title()));
            return 0;
        }
        if (chosen.isEmpty()) {
            System.err.println("bench: no scenario matches " + only + "; see --list");
            return 2;
        }
        Path peerDir = peers != null ? peers : Path.of(System.getProperty("forkd.bench.peers", "bench/peers"));
        if (!Files.isRegularFile(peerDir.resolve("spawn.py"))) {
            System.err.println("bench: no peer programs in " + peerDir.toAbsolutePath() + " (use --peers DIR)");
            return 2;
        }
        Path work = Files.createTempDirectory(Path.of("/tmp"), "fkb");
        long t0 = System.nanoTime();
        String startLoad = loadAverage();
        Bench bench = new Bench(quick, rounds != null ? rounds : (quick ? 3 : 7), work, peerDir.toAbsolutePath(),
                serverJvm, line -> System.err.printf("[%4ds load %s] %s%n",
                        (System.nanoTime() - t0) / 1_000_000_000, load1(), line));
        List<Row> rows = new ArrayList<>();
        List<String> loads = new ArrayList<>();
        try {
            for (Scenario s : chosen) {
                rows.addAll(runOne(bench, s));
                loads.add(s.name() + " " + load1());
            }
        } finally {
            bench.closeServer();
            deleteTree(work);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        out.println();
        out.println("forkd bench" + (quick ? " --quick" : "") + (only.isEmpty() ? "" : " --only " + String.join(",", only))
                + ": " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME).substring(0, 16)
                + ", " + machine() + ", " + bench.rounds() + " rounds after 1 warm-up, took " + took.toSeconds() + " s");
        out.println("load average (1/5/15 min): " + startLoad + " at start, " + loadAverage() + " at end;"
                + " 1-min after each scenario: " + String.join(", ", loads));
        out.println("ratio > 1: forkd better (throughput forkd/peer; time, latency, memory peer/forkd)");
        out.println();
        out.print(Report.table(rows));
        out.println();
        for (Row r : rows) {
            out.println(Report.json(r));
        }
        return rows.stream().anyMatch(r -> r.forkd() instanceof Outcome.Failed
                || r.peerFigure() instanceof Outcome.Failed) ? 1 : 0;
    }

    private static List<Row> runOne(Bench bench, Scenario s) {
        try {
            Optional<String> why = s.unavailable(bench);
            if (why.isPresent()) {
                bench.log(s.name() + ": not available: " + why.get());
                return List.of(Row.notAvailable(s.name(), why.get()));
            }
            bench.log(s.name() + ": " + s.title());
            return s.run(bench);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String why = e.getClass().getSimpleName() + ": " + Runs.firstLine(e.getMessage());
            bench.log(s.name() + ": failed: " + why);
            e.printStackTrace();
            return List.of(new Row(s.name(), "-", "", Better.HIGHER, new Outcome.Failed(why), "",
                    new Outcome.NotAvailable("-"), Target.none(), ""));
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    static String load1() {
        return loadAverage().split(" ")[0];
    }

    /** "2 cores (Intel Xeon ...), 24 GB, Linux 6.x": what a reader needs to weigh the figures. */
    static String machine() {
        String model = "";
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            model = lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("");
        } catch (IOException e) {
            // not Linux: leave the model out
        }
        long memGb = 0;
        try (Stream<String> lines = Files.lines(Path.of("/proc/meminfo"))) {
            memGb = lines.filter(l -> l.startsWith("MemTotal:")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1_000_000).orElse(0L);
        } catch (IOException e) {
            // not Linux
        }
        return Runtime.getRuntime().availableProcessors() + " cores" + (model.isEmpty() ? "" : " (" + model + ")")
                + ", " + memGb + " GB, " + System.getProperty("os.name") + " " + System.getProperty("os.version")
                + ", Java " + Runtime.version().feature();
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind is harmless
        }
    }
}
