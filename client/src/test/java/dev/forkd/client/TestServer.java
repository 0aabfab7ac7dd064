package dev.forkd.client;

import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.ForkdServer;
import dev.forkd.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real supervisor with real agents on a private Unix socket, for the library's tests; clients reach
 * it with {@link #connect()} exactly as a user's program would, through FORKD_ADDRESS. Closing checks
 * that nothing it started is left running.
 */
final class TestServer implements AutoCloseable {

    private static final AtomicInteger NAMES = new AtomicInteger();

    final Path dir;
    final Path socket;
    private final ForkdServer server;
    private final String address;

    private TestServer(Path dir, ForkdServer server) {
        this.dir = dir;
        this.socket = dir.resolve("s.sock");
        this.server = server;
        this.address = server.address().toString();
    }

    static TestServer start() throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkc");
        ServerConfig config = ServerConfig.defaults(new ForkdPaths(dir))
                .withListen(new ListenAddress.Unix(dir.resolve("s.sock")))
                .withAgents(2);
        return new TestServer(dir, ForkdServer.start(config));
    }

    /** A server on plaintext TCP at a free loopback port that requires the token in {@code tokenFile}. */
    static TestServer startTcp(Path tokenFile) throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkc");
        ServerConfig config = ServerConfig.defaults(new ForkdPaths(dir))
                .withTokenFile(java.util.Optional.of(tokenFile))
                .withTransport(new ListenAddress.Tcp("127.0.0.1", 0),
                        new dev.forkd.server.config.TcpSecurity.InsecurePlaintext())
                .withAgents(1);
        return new TestServer(dir, ForkdServer.start(config));
    }

    /** A server on TLS at a free loopback port that requires client certificates signed by {@code clientCa}. */
    static TestServer startMtls(Path cert, Path key, Path clientCa) throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkc");
        ServerConfig config = ServerConfig.defaults(new ForkdPaths(dir))
                .withTransport(new ListenAddress.Tcp("127.0.0.1", 0),
                        new dev.forkd.server.config.TcpSecurity.Tls(cert, key, java.util.Optional.of(clientCa)))
                .withAgents(1);
        return new TestServer(dir, ForkdServer.start(config));
    }

    /** Where it listens, as FORKD_ADDRESS takes it ({@code unix:/path} or {@code host:port}). */
    String address() {
        return address;
    }

    /** The environment a program started by the user would have to find this server. */
    Map<String, String> env() {
        return Map.of("FORKD_ADDRESS", address, "HOME", dir.toString());
    }

    Forkd connect() {
        return Forkd.connect(ConnectOptions.fromEnvironment(env()));
    }

    /** A name no other test uses. */
    static String unique(String prefix) {
        return prefix + "-" + NAMES.incrementAndGet();
    }

    /** The command that runs {@code mainClass} in a new JVM with this test's class path. */
    static List<String> java(Class<?> mainClass, String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                mainClass.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** Stops the server, then checks that every process it started has ended. */
    @Override
    public void close() throws IOException {
        List<ProcessHandle> below = ProcessHandle.current().descendants().toList();
        server.close();
        try {
            for (ProcessHandle p : below) {
                p.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("left running after the server stopped: " + ProcessHandle.current().descendants().toList(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the server's processes to end", e);
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
