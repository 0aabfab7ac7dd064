package dev.forkd.server.it;

import dev.forkd.server.ForkdServer;
import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.SessionServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;

/** A real supervisor with real agents on a private socket, and a channel to it. */
final class RealServer implements AutoCloseable {

    final ForkdServer server;
    final ManagedChannel channel;
    final Path dir;
    private final EpollEventLoopGroup group = new EpollEventLoopGroup(1);

    RealServer(int agents) throws IOException {
        this(agents, AgentLiveness.Settings.DEFAULT, c -> c);
    }

    /** With the agents' heartbeat and the silence after which one is declared lost. */
    RealServer(int agents, AgentLiveness.Settings liveness) throws IOException {
        this(agents, liveness, c -> c);
    }

    /** A server whose configuration {@code tweak} changes (e.g. a small memory budget). */
    RealServer(int agents, java.util.function.UnaryOperator<ServerConfig> tweak) throws IOException {
        this(agents, AgentLiveness.Settings.DEFAULT, tweak);
    }

    private RealServer(int agents, AgentLiveness.Settings liveness,
            java.util.function.UnaryOperator<ServerConfig> tweak) throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "forkd-it-");
        ServerConfig config = tweak.apply(ServerConfig.defaults(new ForkdPaths(dir))
                .withListen(new ListenAddress.Unix(dir.resolve("s.sock")))
                .withAgents(agents));
        server = ForkdServer.start(config, liveness);
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(dir.resolve("s.sock").toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .usePlaintext()
                .maxInboundMessageSize(16 * 1024 * 1024)
                .build();
    }

    /** A new channel as any gRPC client makes it by default: 4 MiB messages, 8 KiB metadata. */
    ManagedChannel defaultChannel() {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(dir.resolve("s.sock").toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .usePlaintext()
                .build();
    }

    ProcessServiceGrpc.ProcessServiceBlockingStub processes() {
        return ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** Waits until a process ends; answers its final state. */
    dev.forkd.v1.ProcessInfo join(String id) {
        return processes().join(dev.forkd.v1.JoinProcessRequest.newBuilder().setName(id).build()).getProcess();
    }

    /** Everything a process wrote (stdout and stderr as they came), following it until it ends. */
    String output(String id) {
        var it = processes().watch(dev.forkd.v1.WatchProcessRequest.newBuilder().setName(id).setFollow(true).build());
        var b = new java.io.ByteArrayOutputStream();
        while (it.hasNext()) {
            var w = it.next();
            if (w.hasOutput()) {
                b.writeBytes(w.getOutput().getData().toByteArray());
            }
        }
        return b.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    ProcessServiceGrpc.ProcessServiceStub processesAsync() {
        return ProcessServiceGrpc.newStub(channel);
    }

    SessionServiceGrpc.SessionServiceBlockingStub sessions() {
        return SessionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    dev.forkd.v1.SyncServiceGrpc.SyncServiceBlockingStub syncs() {
        return dev.forkd.v1.SyncServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    SessionServiceGrpc.SessionServiceStub sessionsAsync() {
        return SessionServiceGrpc.newStub(channel);
    }

    /** Closes, then checks that every agent and child was reaped: nothing is left, not even a zombie. */
    void closeLeavingNothing() throws Exception {
        close();
        int me = (int) ProcessHandle.current().pid();
        Eventually.await(java.time.Duration.ofSeconds(10), () -> Procs.childrenOf(me).isEmpty(),
                () -> "left behind: " + Procs.childrenOf(me));
    }

    @Override
    public void close() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        server.close();
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
