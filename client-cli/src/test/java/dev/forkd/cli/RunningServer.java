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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code forkd serve} in its own JVM, on a Unix socket in a fresh short directory under /tmp
 * (which is also its XDG_RUNTIME_DIR, so its log and state stay there). Closing stops it with SIGTERM
 * and checks that every process it had started is gone.
 */
final class RunningServer implements AutoCloseable {

    static final Duration START_LIMIT = Duration.ofSeconds(60);
    static final Duration STOP_LIMIT = Duration.ofSeconds(30);

    final Path dir;
    final Path socket;
    final Process process;
    private volatile String address;

    private RunningServer(Path dir, Path socket, Process process) {
        this.dir = dir;
        this.socket = socket;
        this.process = process;
        this.address = "unix:" + socket;
    }

    /** A server on a Unix socket in a fresh directory. */
    static RunningServer start() throws Exception {
        return start(dir -> List.of("--listen", "unix:" + dir.resolve("s.sock")));
    }

    /** A server on plaintext TCP at a free port of 127.0.0.1, requiring the token in {@code tokenFile}. */
    static RunningServer startTcp(Path tokenFile) throws Exception {
        return start(dir -> List.of("--listen", "127.0.0.1:0", "--insecure-plaintext", "--token-file", tokenFile.toString()));
    }

    private static RunningServer start(java.util.function.Function<Path, List<String>> serveArgs) throws Exception {
        return start(serveArgs, java.util.Map.of(), command -> command);
    }

    /**
     * A server with {@code serveArgs}, these extra environment variables, and its command line passed
     * through {@code wrap} (e.g. into {@code sh -c 'umask 000; exec "$@"'}).
     */
    static RunningServer start(java.util.function.Function<Path, List<String>> serveArgs, java.util.Map<String, String> env,
            java.util.function.UnaryOperator<List<String>> wrap) throws Exception {
        return startIn(Files.createTempDirectory(Path.of("/tmp"), "fkd"), serveArgs, env, wrap);
    }

    /**
     * A server in {@code dir}, an earlier server's directory: the same socket, log and state
     * directory, so that it takes over what that one kept (a restart).
     */
    static RunningServer startIn(Path dir, java.util.function.Function<Path, List<String>> serveArgs,
            java.util.Map<String, String> env, java.util.function.UnaryOperator<List<String>> wrap) throws Exception {
        Path socket = dir.resolve("s.sock");
        List<String> command = new ArrayList<>(javaCommand());
        command.addAll(List.of(Main.class.getName(), "serve"));
        command.addAll(serveArgs.apply(dir));
        ProcessBuilder pb = new ProcessBuilder(wrap.apply(command))
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("server.err").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("XDG_RUNTIME_DIR", dir.toString());
        pb.environment().put("XDG_STATE_HOME", dir.toString());
        pb.environment().remove("FORKD_ADDRESS");
        pb.environment().putAll(env);
        Process process = pb.start();
        RunningServer server = new RunningServer(dir, socket, process);
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith(ServerLauncher.READY_LINE)) {
                        server.address = line.substring(ServerLauncher.READY_LINE.length()).strip();
                        ready.complete(line);
                    }
                }
                ready.completeExceptionally(new IOException("the server exited before listening: " + server.stderr()));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        }, "server-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            ready.get(START_LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** The java binary and class path of this test JVM, to start forkd JVMs like it. */
    static List<String> javaCommand() {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"));
    }

    /** Where it listens, as it said (the real port for TCP). */
    String address() {
        return address;
    }

    String stderr() {
        try {
            return Files.readString(dir.resolve("server.err"));
        } catch (IOException e) {
            return "(no stderr: " + e.getMessage() + ")";
        }
    }

    /** Every process below the server now: its agents and their children. */
    List<ProcessHandle> descendants() {
        return process.descendants().toList();
    }

    @Override
    public void close() throws Exception {
        List<ProcessHandle> below = descendants();
        try {
            stopAndCheck(process.toHandle(), below, STOP_LIMIT);
        } finally {
            deleteTree(dir);
        }
    }

    /** Removes a test's directory and everything in it; what cannot be removed is left to /tmp's cleaner. */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /**
     * SIGTERM to {@code server}; then checks that it and everything that was below it end within the
     * limit. Whatever is left is killed, and the check fails naming it.
     */
    static void stopAndCheck(ProcessHandle server, List<ProcessHandle> below, Duration limit) throws Exception {
        // A test whose timeout interrupted a CLI call gets here with its interrupt flag still set
        // (gRPC's blocking calls set it again). The wait must not end at once on it: it would skip
        // the check and the kill of what is left, and its InterruptedException would hide what hung.
        boolean interrupted = Thread.interrupted();
        try {
            server.destroy();
            List<String> survivors = new ArrayList<>();
            long end = System.nanoTime() + limit.toNanos();
            for (ProcessHandle p : concat(server, below)) {
                interrupted |= awaitExit(p, end, survivors);
            }
            failIfAny(survivors, limit);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Waits until {@code end} (a nanoTime) for {@code p} to exit, interrupted or not; kills it and names
     * it in {@code survivors} if it does not. True if the wait was interrupted.
     */
    private static boolean awaitExit(ProcessHandle p, long end, List<String> survivors) throws Exception {
        boolean interrupted = false;
        while (true) {
            try {
                p.onExit().get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                return interrupted;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (java.util.concurrent.TimeoutException e) {
                survivors.add(p.pid() + " " + p.info().commandLine().orElse("?"));
                p.destroyForcibly();
                return interrupted;
            }
        }
    }

    private static void failIfAny(List<String> survivors, Duration limit) {
        if (!survivors.isEmpty()) {
            throw new AssertionError("still alive " + limit.toSeconds() + " s after the server was told to stop: " + survivors);
        }
    }

    private static List<ProcessHandle> concat(ProcessHandle first, List<ProcessHandle> rest) {
        List<ProcessHandle> all = new ArrayList<>(rest.size() + 1);
        all.add(first);
        all.addAll(rest);
        return all;
    }
}
