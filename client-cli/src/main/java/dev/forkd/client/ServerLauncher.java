package dev.forkd.client;

import dev.forkd.address.ForkdPaths;
import java.io.File;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.SocketChannel;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

/**
 * Starts {@code forkd serve} in the background for the default socket, the way Gradle and Bazel
 * start their daemons: with the {@code forkd} launcher the client was started by (so it is started
 * exactly as {@code forkd serve} is: same script, same JVM options), else with this JVM's java and
 * class path; in its own session (so a Ctrl-C in the terminal does not reach it), output appended
 * to the log file. It returns once the server says it is listening.
 *
 * <p>Concurrent clients take a lock file in the state directory, so only one of them starts a
 * server; the others find it running when they get the lock.
 */
public final class ServerLauncher {

    /** A server this launcher started. */
    public record Started(Path socket, long pid, Path logFile) {}

    /**
     * How long to wait for a started server: as long as it lives and its log keeps growing, up to
     * {@code overall}; it fails sooner when the log stays unchanged for {@code silence}. A loaded
     * machine only slows a start that is progressing; a stuck one is caught by the silence.
     */
    public record Patience(Duration silence, Duration overall) {
        public Patience {
            if (silence.isNegative() || silence.isZero() || overall.compareTo(silence) < 0) {
                throw new IllegalArgumentException("patience needs 0 < silence <= overall: " + silence + ", " + overall);
            }
        }
    }

    /** What {@code forkd serve} prints once it accepts calls; autostart waits for it in the log. */
    public static final String READY_LINE = "forkd listening on ";

    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private final ForkdPaths paths;
    private final List<String> command;
    private final Patience patience;

    ServerLauncher(ForkdPaths paths, List<String> command, Patience patience) {
        this.paths = paths;
        this.command = List.copyOf(command);
        this.patience = patience;
    }

    /**
     * The variable the {@code forkd} launcher scripts set to their own path before they start the
     * JVM; the server passes it on to its children.
     */
    public static final String CLI_VARIABLE = "FORKD_CLI";

    /** The {@code forkd} launcher named by {@code FORKD_CLI}, when it is an absolute path to a program. */
    public static Optional<Path> launcher(java.util.Map<String, String> env) {
        return Optional.ofNullable(env.get(CLI_VARIABLE))
                .filter(s -> s.startsWith("/"))
                .map(Path::of)
                .filter(Files::isExecutable);
    }

    /**
     * The server for {@code env}: {@code forkd serve} through the launcher in {@code FORKD_CLI}
     * when there is one, else {@link #forThisJvm} ({@code java -jar forkd-cli.jar}, tests).
     */
    public static ServerLauncher forEnvironment(ForkdPaths paths, java.util.Map<String, String> env, String mainClass,
            List<String> serveArgs, Patience patience) {
        return launcher(env)
                .map(script -> forLauncher(paths, script, serveArgs, patience))
                .orElseGet(() -> forThisJvm(paths, mainClass, serveArgs, patience));
    }

    /** A launcher that runs {@code script serveArgs... --listen unix:<default socket>}. */
    static ServerLauncher forLauncher(ForkdPaths paths, Path script, List<String> serveArgs, Patience patience) {
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(SETSID)) {
            command.add(SETSID.toString());
        }
        command.add(script.toString());
        command.addAll(serveArgs);
        command.addAll(List.of("--listen", "unix:" + paths.socket()));
        return new ServerLauncher(paths, command, patience);
    }

    /**
     * A launcher that runs {@code mainClass serveArgs... --listen unix:<default socket>} on this
     * JVM's java binary and class path, with the JVM options the launcher script gives {@code serve}.
     */
    public static ServerLauncher forThisJvm(ForkdPaths paths, String mainClass, List<String> serveArgs, Patience patience) {
        String java = ProcessHandle.current().info().command()
                .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Absolute entries: the server runs from "/", not from the client's directory.
        String classPath = String.join(File.pathSeparator, Arrays.stream(
                        System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.isEmpty())
                .map(s -> Path.of(s).toAbsolutePath().toString())
                .toList());
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(SETSID)) {
            command.add(SETSID.toString());
        }
        command.add(java);
        command.addAll(serveJvmOptions());
        command.addAll(List.of("-cp", classPath, mainClass));
        command.addAll(serveArgs);
        command.addAll(List.of("--listen", "unix:" + paths.socket()));
        return new ServerLauncher(paths, command, patience);
    }

    /**
     * The JVM options of {@code forkd serve} (an explicit heap, exit on OutOfMemoryError), from the
     * resource the {@code forkd} script reads too, so a server started either way runs the same JVM.
     */
    public static List<String> serveJvmOptions() {
        try (var in = ServerLauncher.class.getResourceAsStream("serve-jvm-options")) {
            if (in == null) {
                throw new IllegalStateException("serve-jvm-options is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The command this launcher runs, for tests. */
    List<String> command() {
        return command;
    }

    /** True if something accepts connections on the Unix socket {@code socket}. */
    public static boolean accepts(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            return false; // refused: a stale socket file from a server that died
        }
    }

    /**
     * Makes sure a server accepts on the default socket, starting one if none does.
     *
     * @return the server started, or empty if one was already there
     * @throws IOException if the server could not be started or did not come up before the deadline
     */
    public Optional<Started> ensureRunning() throws IOException {
        Path dir = paths.stateDir();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        try (FileChannel lockFile = FileChannel.open(dir.resolve("autostart.lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = lockFile.lock()) {
            if (accepts(paths.socket())) {
                return Optional.empty(); // another client started it while we waited for the lock
            }
            try (WatchService watcher = FileSystems.getDefault().newWatchService()) {
                dir.register(watcher, ENTRY_CREATE, ENTRY_MODIFY);
                Path log = paths.logFile();
                long logStart = Files.exists(log) ? Files.size(log) : 0;
                Process server = start(log);
                // A server that dies early closes the watcher, which wakes the wait below.
                server.onExit().thenRun(() -> closeQuietly(watcher));
                if (!awaitReady(watcher, server, logStart)) {
                    return Optional.empty(); // ours lost the race to a server started by hand
                }
                return Optional.of(new Started(paths.socket(), server.pid(), log));
            }
        } catch (ClosedChannelException e) {
            throw new IOException("could not lock " + dir.resolve("autostart.lock"), e);
        }
    }

    private Process start(Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(new File("/"))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        return builder.start();
    }

    /**
     * Waits until the server says it is listening ({@link #READY_LINE} in its log, written once it
     * accepts calls). Every change in the state directory wakes the wait: the socket appearing, each
     * line the server logs. Each new line restarts the silence bound of {@link #patience}.
     *
     * @return true when our server is ready; false when it exited because another one took the socket
     */
    private boolean awaitReady(WatchService watcher, Process server, long logStart) throws IOException {
        long started = System.nanoTime();
        long overallEnd = started + patience.overall().toNanos();
        long lastGrowth = started;
        long logSize = logSize();
        try {
            while (!logSays(logStart, READY_LINE)) {
                long now = System.nanoTime();
                long size = logSize();
                if (size != logSize) {
                    logSize = size;
                    lastGrowth = now;
                }
                long end = Math.min(overallEnd, lastGrowth + patience.silence().toNanos());
                WatchKey key = end - now > 0 ? watcher.poll(end - now, TimeUnit.NANOSECONDS) : null;
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                } else if (!logSays(logStart, READY_LINE) && (logSize() == logSize || System.nanoTime() - overallEnd >= 0)) {
                    throw new IOException(notReady(server, System.nanoTime() - overallEnd >= 0));
                }
            }
            return true;
        } catch (ClosedWatchServiceException e) {
            if (logSays(logStart, READY_LINE)) {
                return true;
            }
            if (accepts(paths.socket())) {
                return false;
            }
            throw new IOException(exitMessage(server, logStart));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the server to start", e);
        }
    }

    /** Why a server that still runs is not waited for any longer, and that it is left running. */
    private String notReady(Process server, boolean overall) {
        String why = overall
                ? "was still starting after " + patience.overall().toSeconds() + " s (its log was moving)"
                : "logged nothing for " + patience.silence().toSeconds() + " s";
        return "the server (pid " + server.pid() + ") " + why + " and is not ready; it is left running and may"
                + " yet come up (see " + paths.logFile() + ")";
    }

    private long logSize() throws IOException {
        try {
            return Files.size(paths.logFile());
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    private boolean logSays(long from, String line) throws IOException {
        return logSince(from).lines().anyMatch(l -> l.startsWith(line));
    }

    private String logSince(long from) throws IOException {
        try (FileChannel ch = FileChannel.open(paths.logFile(), StandardOpenOption.READ)) {
            long size = ch.size();
            if (size <= from) {
                return "";
            }
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - from, 1 << 20));
            ch.read(buf, from);
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        }
    }

    private String exitMessage(Process server, long logStart) throws IOException {
        String status;
        try {
            status = server.waitFor(1, TimeUnit.SECONDS) ? "status " + server.exitValue() : "unknown status";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = "unknown status";
        }
        // The server's own last word is usually the reason (e.g. "cannot serve on ...").
        String last = logSince(logStart).lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("");
        return "the server exited with " + status + (last.isEmpty() ? "" : ": " + last.strip())
                + " (log: " + paths.logFile() + ")";
    }

    private static void closeQuietly(WatchService watcher) {
        try {
            watcher.close();
        } catch (IOException ignored) {
            // closing only wakes the waiter; nothing to do if it fails
        }
    }
}
