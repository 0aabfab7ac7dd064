package dev.forkd.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What every scenario gets: the size of the run, the server under test, the peer programs, a work
 * directory and a progress log (stderr).
 *
 * <p>A peer is a program in {@code bench/peers/} that measures one thing and prints one JSON object
 * per figure and line: {@code {"figure": "spawns_per_s", "value": 1860.0}}.
 */
public final class Bench {

    private final boolean quick;
    private final int rounds;
    private final Path work;
    private final Path peers;
    private final Consumer<String> log;
    private final Optional<String> python;
    private final List<String> serverJvm;
    private ServerUnderTest server;
    private Optional<Path> spawnC;
    private String spawnCMissing = "";
    private Optional<String> parallelMissing;

    Bench(boolean quick, int rounds, Path work, Path peers, List<String> serverJvm, Consumer<String> log) {
        this.quick = quick;
        this.rounds = rounds;
        this.work = work;
        this.peers = peers;
        this.serverJvm = serverJvm;
        this.log = log;
        this.python = findPython();
    }

    public boolean quick() {
        return quick;
    }

    /** {@code quick} in a quick run, else {@code full}. */
    public int size(int quickSize, int fullSize) {
        return quick ? quickSize : fullSize;
    }

    /** Measured rounds per scenario (after one warm-up round). */
    public int rounds() {
        return rounds;
    }

    public int warmUps() {
        return 1;
    }

    /** How long forkd's side of a scenario warms up before it is measured (Runs.Side#daemon). */
    public java.time.Duration daemonWarmUp() {
        return java.time.Duration.ofSeconds(quick ? 1 : 5);
    }

    /** The peer programs' directory ({@code bench/peers} of the checkout, unless --peers). */
    public Path peers() {
        return peers;
    }

    public Path work() {
        return work;
    }

    public void log(String line) {
        log.accept(line);
    }

    /** The shared server (two agents, as on a 2-core machine), started on first use. */
    public synchronized ServerUnderTest server() throws Exception {
        if (server == null) {
            log("starting forkd serve (2 agents)...");
            server = ServerUnderTest.start(work, 2, serverJvm);
            Duration warm = Duration.ofSeconds(quick ? 3 : 20);
            log("warming the server up: " + warm.toSeconds() + " s of spawn+join, untimed...");
            log("warm-up: " + server.warmUp(warm) + " spawns");
        }
        return server;
    }

    /** A fresh server of its own, for figures a shared one would spoil (idle memory). */
    public ServerUnderTest freshServer(int agents) throws Exception {
        return ServerUnderTest.start(work, agents, serverJvm);
    }

    /** {@link #freshServer(int)} with more {@code forkd serve} options. */
    public ServerUnderTest freshServer(int agents, List<String> serveArgs) throws Exception {
        return ServerUnderTest.start(work, agents, serverJvm, serveArgs);
    }

    void closeServer() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /** Why a Python peer cannot run, or empty. */
    public Optional<String> pythonMissing() {
        return python.isPresent() ? Optional.empty() : Optional.of("python3 not found");
    }

    /** Runs {@code bench/peers/<script>} with python3. */
    public Map<String, Double> python(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(python.orElseThrow(), peers.resolve(script).toString()));
        cmd.addAll(List.of(args));
        return figures(cmd);
    }

    /** Runs {@code bench/peers/<script>} with bash. */
    public Map<String, Double> shell(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", peers.resolve(script).toString()));
        cmd.addAll(List.of(args));
        return figures(cmd);
    }

    /** The C {@code posix_spawn} peer, compiled with {@code cc -O2} on first use, or why it is missing. */
    public synchronized Optional<Path> spawnC() {
        if (spawnC == null) {
            Path exe = work.resolve("spawn_c");
            try {
                Process p = new ProcessBuilder("cc", "-O2", "-pthread", "-o", exe.toString(),
                        peers.resolve("spawn_c.c").toString(), "-lm").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                spawnC = p.waitFor() == 0 ? Optional.of(exe) : Optional.empty();
                spawnCMissing = "cc failed: " + Runs.firstLine(out);
            } catch (IOException e) {
                spawnC = Optional.empty();
                spawnCMissing = "no C compiler (cc): " + e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                spawnC = Optional.empty();
                spawnCMissing = "interrupted";
            }
        }
        return spawnC;
    }

    public String spawnCMissing() {
        return spawnCMissing;
    }

    public Map<String, Double> c(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(spawnC().orElseThrow().toString()));
        cmd.addAll(List.of(args));
        return figures(cmd);
    }

    /**
     * GNU parallel, installed with apt-get when missing and we are root (the harness's setup step);
     * empty when it is there, else why not.
     */
    public synchronized Optional<String> parallelMissing() {
        if (parallelMissing == null) {
            parallelMissing = Setup.ensureGnuParallel(this::log);
        }
        return parallelMissing;
    }

    /** Runs a peer and reads its figures; a peer that exits non-zero fails with its stderr. */
    public Map<String, Double> figures(List<String> command) throws IOException, InterruptedException {
        Path err = Files.createTempFile(work, "peer", ".err");
        Process p = new ProcessBuilder(command).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + ": no end after 10 minutes");
        }
        String stderr = Files.readString(err);
        Files.deleteIfExists(err);
        if (p.exitValue() != 0) {
            throw new IOException(command.getLast() + " exited " + p.exitValue() + ": " + stderr.strip());
        }
        return parse(out);
    }

    /** Figures from a peer's JSON lines; other lines are ignored. */
    static Map<String, Double> parse(String out) throws IOException {
        Map<String, Double> figures = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            if (!line.strip().startsWith("{")) {
                continue;
            }
            Struct.Builder s = Struct.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(line, s);
            Value name = s.getFieldsOrDefault("figure", Value.getDefaultInstance());
            Value value = s.getFieldsOrDefault("value", Value.getDefaultInstance());
            if (name.hasStringValue() && value.hasNumberValue()) {
                figures.put(name.getStringValue(), value.getNumberValue());
            }
        }
        if (figures.isEmpty()) {
            throw new IOException("the peer printed no figures: " + Runs.firstLine(out));
        }
        return figures;
    }

    /** The real python3 (not a version manager's shim, whose start-up would be timed in nothing but is slow). */
    private static Optional<String> findPython() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 && !out.isEmpty() ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
