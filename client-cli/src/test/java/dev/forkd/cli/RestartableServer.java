package dev.forkd.cli;

import dev.forkd.client.ServerLauncher;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code forkd serve} that a test kills and starts again on the same state directory and
 * socket, as a crashed supervisor is restarted by systemd. Every process ever seen below any of its
 * incarnations is remembered, so that the end can check that none is left.
 */
final class RestartableServer implements AutoCloseable {

    final Path dir;
    final Path socket;
    private final List<String> extraArgs;
    private final Map<Long, ProcessHandle> seen = new LinkedHashMap<>();
    private Process process;
    private int starts;

    private RestartableServer(Path dir, List<String> extraArgs) {
        this.dir = dir;
        this.socket = dir.resolve("s.sock");
        this.extraArgs = extraArgs;
    }

    /** Starts the first incarnation in a fresh directory under /tmp (socket, state and logs all there). */
    static RestartableServer start(List<String> extraArgs) throws Exception {
        RestartableServer s = new RestartableServer(Files.createTempDirectory(Path.of("/tmp"), "fkx"), extraArgs);
        s.startAgain();
        return s;
    }

    /** Starts the next incarnation on the same state directory; returns once it listens. */
    void startAgain() throws Exception {
        startAgain(List.of());
    }

    /** As {@link #startAgain()}, with more serve options this time (e.g. --fresh). */
    void startAgain(List<String> moreArgs) throws Exception {
        starts++;
        List<String> command = new ArrayList<>(RunningServer.javaCommand());
        command.addAll(List.of(Main.class.getName(), "serve", "--listen", "unix:" + socket,
                "--state-dir", dir.resolve("state").toString()));
        command.addAll(extraArgs);
        command.addAll(moreArgs);
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("server.err").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("XDG_RUNTIME_DIR", dir.toString());
        pb.environment().put("XDG_STATE_HOME", dir.toString());
        pb.environment().remove("FORKD_ADDRESS");
        process = pb.start();
        Process p = process;
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith(ServerLauncher.READY_LINE)) {
                        ready.complete(null);
                    }
                }
                ready.completeExceptionally(new IOException("server " + starts + " exited before listening: " + stderrTail()));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        }, "server-stdout-" + starts);
        reader.setDaemon(true);
        reader.start();
        ready.get(RunningServer.START_LIMIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** A CLI whose default server is this one, as a user's shell would have it. */
    Cli cli() {
        Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.put("FORKD_ADDRESS", "unix:" + socket);
        env.put("XDG_RUNTIME_DIR", dir.toString());
        env.put("XDG_STATE_HOME", dir.toString());
        env.remove("FORKD_TOKEN");
        env.remove("FORKD_SESSION");
        return new Cli(env, Path.of(System.getProperty("user.dir")));
    }

    /** The supervisor's pid (this incarnation's). */
    long pid() {
        return process.pid();
    }

    /** How many times a server was started here. */
    int starts() {
        return starts;
    }

    /** Remembers every process below the supervisor now, and {@code pid} (a child the API named). */
    synchronized void remember(long pid) {
        ProcessHandle.of(pid).ifPresent(h -> seen.putIfAbsent(pid, h));
    }

    /** Remembers everything below the current supervisor. */
    synchronized void rememberDescendants() {
        process.descendants().forEach(h -> seen.putIfAbsent(h.pid(), h));
    }

    /** SIGKILL to the supervisor alone (never its group): its agents and children are not touched. */
    void sigkill() throws InterruptedException {
        rememberDescendants();
        process.destroyForcibly(); // SIGKILL to this pid only
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("the supervisor outlived SIGKILL for 30 s");
        }
    }

    /**
     * True while {@code h} runs: alive (same start time, so not a reused pid) and not a zombie. An
     * agent orphaned by a killed supervisor may end as a zombie of init, which is not ours to reap.
     */
    static boolean running(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    String stderrTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("server.err"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no stderr: " + e.getMessage() + ")";
        }
    }

    /**
     * SIGTERM to the current supervisor; then every process ever seen here (agents and children of
     * every incarnation) must be gone within {@code limit}. Names the survivors (killed) if not.
     */
    List<String> stopAndListSurvivors(Duration limit) throws InterruptedException {
        rememberDescendants();
        process.destroy();
        long end = System.nanoTime() + limit.toNanos();
        List<String> survivors = new ArrayList<>();
        List<ProcessHandle> all = new ArrayList<>();
        all.add(process.toHandle());
        synchronized (this) {
            all.addAll(seen.values());
        }
        for (ProcessHandle h : all) {
            while (running(h) && System.nanoTime() < end) {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000); // /proc has no event to wait on
            }
            if (running(h)) {
                survivors.add(h.pid() + " " + h.info().commandLine().orElse("?"));
                h.destroyForcibly();
            }
        }
        return survivors;
    }

    /** Kills whatever is left (after a failure) and removes the directory unless asked to keep it. */
    void cleanUp(boolean keepDir) throws IOException {
        if (process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        synchronized (this) {
            seen.values().forEach(ProcessHandle::destroyForcibly);
        }
        if (!keepDir) {
            RunningServer.deleteTree(dir);
        }
    }

    @Override
    public void close() throws IOException {
        cleanUp(false);
    }
}
