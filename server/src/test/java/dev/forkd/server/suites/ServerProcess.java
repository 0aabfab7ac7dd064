package dev.forkd.server.suites;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code forkd} supervisor in its own JVM (see {@link ServeMain}) with real agents, on a
 * private socket. Its log goes to {@code server.log} in its directory, kept when the test fails.
 */
public final class ServerProcess implements AutoCloseable {

    public final Path dir;
    private final Process jvm;
    private final EpollEventLoopGroup group = new EpollEventLoopGroup(2);
    private final List<ManagedChannel> channels = new ArrayList<>();

    private ServerProcess(Path dir, Process jvm) {
        this.dir = dir;
        this.jvm = jvm;
    }

    /**
     * @param heap the server JVM's -Xmx, e.g. "512m"
     * @param props extra -D options for the server JVM
     */
    public static ServerProcess start(int agents, int maxProcesses, String heap, List<String> props)
            throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "forkd-suite-");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-XX:+UseSerialGC",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        cmd.addAll(props);
        cmd.addAll(List.of(ServeMain.class.getName(), dir.toString(), Integer.toString(agents),
                Integer.toString(maxProcesses)));
        Process jvm = new ProcessBuilder(cmd).redirectErrorStream(false)
                .redirectError(dir.resolve("server.log").toFile()).start();
        ServerProcess s = new ServerProcess(dir, jvm);
        CompletableFuture<Boolean> ready = CompletableFuture.supplyAsync(() -> {
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.equals("READY")) {
                        return true;
                    }
                }
                return false;
            } catch (IOException e) {
                return false;
            }
        });
        try {
            if (!ready.get(120, TimeUnit.SECONDS)) {
                throw new IOException("the server did not start: " + s.logTail());
            }
        } catch (Exception e) {
            s.kill();
            throw e instanceof IOException io ? io : new IOException("the server did not start: " + s.logTail(), e);
        }
        return s;
    }

    /** A new client connection (its own HTTP/2 connection, like another program). */
    public synchronized ManagedChannel newChannel() {
        ManagedChannel c = NettyChannelBuilder.forAddress(new DomainSocketAddress(dir.resolve("s.sock").toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .usePlaintext()
                .build();
        channels.add(c);
        return c;
    }

    public int pid() {
        return (int) jvm.pid();
    }

    public boolean alive() {
        return jvm.isAlive();
    }

    /** The worker-agents: the server JVM's direct children. */
    public List<Integer> agentPids() {
        return ProcTree.all().stream().filter(s -> s.ppid() == pid() && s.state() != 'Z')
                .map(ProcTree.Stat::pid).toList();
    }

    /** Processes started for this server (they carry its private address in their environment). */
    public List<ProcTree.Stat> childrenAnywhere() {
        return ProcTree.carrying(dir.resolve("s.sock").toString());
    }

    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("server.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    public long logBytes() {
        try {
            return Files.size(dir.resolve("server.log"));
        } catch (IOException e) {
            return 0;
        }
    }

    private void kill() {
        jvm.descendants().forEach(ProcessHandle::destroyForcibly);
        jvm.destroyForcibly();
    }

    /** Stops the server cleanly (stdin closed), or kills it after 60 s; keeps the dir if asked. */
    public void close(boolean keepDir) throws Exception {
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels) {
            c.awaitTermination(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        try {
            jvm.getOutputStream().close();
        } catch (IOException e) {
            // already gone
        }
        if (!jvm.waitFor(60, TimeUnit.SECONDS)) {
            kill();
            jvm.waitFor(10, TimeUnit.SECONDS);
        }
        if (!keepDir) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Override
    public void close() throws Exception {
        close(false);
    }
}
