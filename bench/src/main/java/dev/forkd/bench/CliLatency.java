package dev.forkd.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One short CLI command end to end, as a shell user pays for it: {@code forkd ps --all} (the installed
 * distribution's {@code bin/forkd}, JVM start-up included) beside {@code supervisorctl status} (a
 * Python CLI) against a supervisord of its own on a Unix socket, each listing one program. Wall
 * time and CPU (user + system, from the shell's {@code times}) per call, the median of a round's
 * calls. The forkd CLI is {@code $FORKD_BENCH_CLI}, else the checkout's built distribution
 * ({@code dist/target/forkd-VERSION/bin/forkd}: {@code ./forkd} builds it).
 */
final class CliLatency implements Scenario {

    @Override
    public String name() {
        return "cli";
    }

    @Override
    public String title() {
        return "one short CLI command end to end: forkd ps vs supervisorctl status";
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        int calls = bench.size(5, 15);
        Optional<Path> cli = forkdCli(bench);
        String address = bench.server().address().toString();
        String listed;
        try (var client = bench.server().connect()) {
            // One record to list (it ends at once, so it can be deleted afterwards like any other).
            listed = client.processes().spawn(Spawns.request(Spawns.TRUE)).getProcess().getId();
        }
        Path conf = supervisorConfig(bench.work());
        Optional<Process> supervisord = startSupervisord(conf, bench);
        try {
            List<Runs.Side> sides = new ArrayList<>();
            sides.add(cli.isPresent()
                    ? Runs.Side.of("forkd", () -> timed(List.of(cli.get().toString(), "ps", "--all"), Map.of("FORKD_ADDRESS", address), calls))
                    : Runs.Side.unavailable("forkd", "no forkd distribution: run ./forkd once (it builds one) or set FORKD_BENCH_CLI"));
            sides.add(supervisord.isPresent()
                    ? Runs.Side.of("supervisorctl", () -> timed(List.of("supervisorctl", "-c", conf.toString(), "status"), Map.of(), calls))
                    : Runs.Side.unavailable("supervisorctl", "supervisord could not start (apt-get install supervisor)"));
            Runs runs = Runs.measure(name(), bench.warmUps(), bench.rounds(), java.time.Duration.ZERO, sides, bench::log);
            String s = name();
            return List.of(
                    runs.compare(s, "wall per call", "ms", Better.LOWER, "wall_ms", "supervisorctl", "wall_ms", Target.none()),
                    runs.compare(s, "CPU per call", "ms", Better.LOWER, "cpu_ms", "supervisorctl", "cpu_ms", Target.none()),
                    runs.alone(s, "forkd ps wall", "ms", Better.LOWER, "wall_ms", Target.limit(250)),
                    runs.alone(s, "forkd ps CPU", "ms", Better.LOWER, "cpu_ms", Target.limit(300)));
        } finally {
            supervisord.ifPresent(p -> {
                p.destroy();
                try {
                    if (!p.waitFor(30, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try (var client = bench.server().connect()) {
                Spawns.deleteAll(client, List.of(listed));
            }
        }
    }

    private static Optional<Path> forkdCli(Bench bench) throws IOException {
        String given = System.getenv("FORKD_BENCH_CLI");
        if (given != null && !given.isBlank()) {
            return Optional.of(Path.of(given)).filter(Files::isExecutable);
        }
        Path target = bench.peers().getParent().getParent().resolve("dist/target");
        if (!Files.isDirectory(target)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(target)) {
            return dirs.map(d -> d.resolve("bin/forkd")).filter(Files::isExecutable).findFirst();
        }
    }

    /**
     * {@code calls} runs of {@code command}, one at a time, each in a shell that reports its
     * children's CPU with {@code times}: the medians of wall and CPU per call, in ms.
     */
    static Map<String, Double> timed(List<String> command, Map<String, String> env, int calls)
            throws IOException, InterruptedException {
        double[] wall = new double[calls];
        double[] cpu = new double[calls];
        List<String> shell = new ArrayList<>(List.of("sh", "-c", "\"$@\" >/dev/null 2>&1 || exit 97; times", "sh"));
        shell.addAll(command);
        for (int i = 0; i < calls; i++) {
            ProcessBuilder pb = new ProcessBuilder(shell).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true);
            pb.environment().keySet().removeIf(k -> k.startsWith("FORKD_"));
            pb.environment().putAll(env);
            long t0 = System.nanoTime();
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            wall[i] = (System.nanoTime() - t0) / 1e6;
            if (code != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + (code == 97 ? "non-zero" : code) + ")");
            }
            cpu[i] = childrenCpuMs(out);
        }
        return Map.of("wall_ms", Summary.percentile(wall, 0.5), "cpu_ms", Summary.percentile(cpu, 0.5));
    }

    /** The second line of {@code times}: the children's user and system time, as {@code 0m0.412s 0m0.051s}. */
    static double childrenCpuMs(String times) throws IOException {
        List<String> lines = times.lines().filter(l -> l.contains("m") && l.endsWith("s")).toList();
        if (lines.size() < 2) {
            throw new IOException("no times from the shell: " + times);
        }
        double ms = 0;
        for (String f : lines.get(1).strip().split("\\s+")) {
            int m = f.indexOf('m');
            ms += (Integer.parseInt(f.substring(0, m)) * 60 + Double.parseDouble(f.substring(m + 1, f.length() - 1))) * 1000;
        }
        return ms;
    }

    private static Path supervisorConfig(Path work) throws IOException {
        Path dir = Files.createDirectories(work.resolve("supervisor"));
        Path conf = dir.resolve("supervisord.conf");
        Files.writeString(conf, String.join("\n",
                "[unix_http_server]",
                "file=" + dir.resolve("supervisor.sock"),
                "chmod=0700",
                "[supervisord]",
                "logfile=" + dir.resolve("supervisord.log"),
                "pidfile=" + dir.resolve("supervisord.pid"),
                "childlogdir=" + dir,
                "nodaemon=true",
                "[rpcinterface:supervisor]",
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
                "[supervisorctl]",
                "serverurl=unix://" + dir.resolve("supervisor.sock"),
                "[program:sleeper]",
                "command=sleep 3600",
                ""));
        return conf;
    }

    /** supervisord in the foreground, once {@code supervisorctl status} answers; empty if it cannot run. */
    private static Optional<Process> startSupervisord(Path conf, Bench bench) throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder("supervisord", "-n", "-c", conf.toString())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
        } catch (IOException e) {
            bench.log("cli: supervisord not found: " + e.getMessage());
            return Optional.empty();
        }
        // Each try is a whole supervisorctl run (~0.15 s), which paces the wait; 200 tries at most.
        for (int i = 0; i < 200 && p.isAlive(); i++) {
            try {
                Process ctl = new ProcessBuilder("supervisorctl", "-c", conf.toString(), "status", "sleeper")
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
                if (ctl.waitFor() == 0) {
                    return Optional.of(p);
                }
            } catch (IOException e) {
                break;
            }
        }
        p.destroyForcibly();
        return Optional.empty();
    }
}
