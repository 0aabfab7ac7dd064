package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import dev.forkd.client.ServerLauncher;
import dev.forkd.address.ListenAddress;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@code forkd serve} of the harness's own, in its own JVM with the flags the {@code ./forkd}
 * launcher gives a server, on a Unix socket in a private directory. Its worker-agents are its child
 * JVMs. Closing stops it with SIGTERM (it stops its agents and their children).
 */
public final class ServerUnderTest implements AutoCloseable {

    /** The JVM options {@code ./forkd serve} runs with (an explicit heap, exit on OutOfMemoryError). */
    static final List<String> SERVE_JVM = dev.forkd.client.ServerLauncher.serveJvmOptions();

    private final Path dir;
    private final Process process;
    private final ListenAddress address;

    private ServerUnderTest(Path dir, Process process, ListenAddress address) {
        this.dir = dir;
        this.process = process;
        this.address = address;
    }

    /**
     * Starts a server with {@code agents} agents under {@code parent} and waits until it listens and
     * an agent runs a process.
     *
     * @param extraJvm more JVM options for the server (e.g. to record a JFR profile)
     */
    public static ServerUnderTest start(Path parent, int agents, List<String> extraJvm) throws Exception {
        return start(parent, agents, extraJvm, List.of());
    }

    /** {@link #start(Path, int, List)} with more {@code forkd serve} options (e.g. {@code --state-dir none}). */
    public static ServerUnderTest start(Path parent, int agents, List<String> extraJvm, List<String> serveArgs)
            throws Exception {
        Path dir = Files.createTempDirectory(parent, "srv");
        Path socket = dir.resolve("s.sock");
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(SERVE_JVM);
        command.addAll(extraJvm);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.forkd.cli.Main", "serve",
                "--listen", "unix:" + socket, "--agents", Integer.toString(agents)));
        command.addAll(serveArgs);
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectError(dir.resolve("server.err").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("XDG_RUNTIME_DIR", dir.toString());
        // Its state store in its own directory, never the user's (whose server may hold it).
        pb.environment().put("XDG_STATE_HOME", dir.toString());
        pb.environment().remove("FORKD_ADDRESS");
        Process process = pb.start();
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith(ServerLauncher.READY_LINE)) {
                        ready.complete(line);
                    }
                }
                ready.completeExceptionally(new IOException("the server exited before listening"));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        }, "bench-server-stdout");
        reader.setDaemon(true);
        reader.start();
        ServerUnderTest server = new ServerUnderTest(dir, process, new ListenAddress.Unix(socket));
        try {
            ready.get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            server.close();
            throw new IOException("forkd serve did not start: " + e.getMessage() + "\n" + server.stderr(), e);
        }
        return server;
    }

    public ListenAddress address() {
        return address;
    }

    public long pid() {
        return process.pid();
    }

    /** The server's worker-agents: its child JVMs. */
    public List<Long> agentPids() {
        return process.toHandle().children()
                .filter(h -> h.info().commandLine().map(c -> c.contains("dev.forkd.agent")).orElse(false))
                .map(ProcessHandle::pid)
                .toList();
    }

    /** A new connection to this server (its own channel and event loop). */
    public ForkdClient connect() {
        return ForkdClient.connect(address, Optional.empty(), Optional.empty());
    }

    /**
     * Spawns and joins {@code /bin/true} for {@code time}, untimed: the server and its agents are
     * JVMs whose hot paths run interpreted or C1-compiled for their first few thousand calls, and
     * their JIT compiler threads then take CPU the children need. A daemon is measured in the steady
     * state it lives in. Returns how many spawns it took.
     */
    public int warmUp(Duration time) throws Exception {
        long until = System.nanoTime() + time.toNanos();
        int n = 0;
        try (ForkdClient c = connect()) {
            List<String> ids = new ArrayList<>();
            while (System.nanoTime() - until < 0) {
                ids.add(Spawns.spawnAndJoin(c, Spawns.TRUE));
                if (ids.size() == 500) {
                    Spawns.deleteAll(c, ids);
                    n += ids.size();
                    ids.clear();
                }
            }
            Spawns.deleteAll(c, ids);
            n += ids.size();
        }
        return n;
    }

    String stderr() {
        try {
            String s = Files.readString(dir.resolve("server.err"));
            return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        process.destroy(); // SIGTERM: the server stops its agents and their children
        try {
            if (!process.waitFor(Duration.ofSeconds(30).toSeconds(), TimeUnit.SECONDS)) {
                process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
