package dev.forkd.server.it;

import dev.forkd.server.ForkdServer;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.metrics.MetricsSettings;
import dev.forkd.v1.ProcessServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Like {@link RealServer}, with metrics served on a free loopback port (and the event stream, always there). */
final class ObservedServer implements AutoCloseable {

    final ForkdServer server;
    final ManagedChannel channel;
    final Path dir;
    private final EpollEventLoopGroup group = new EpollEventLoopGroup(1);

    ObservedServer(int agents, int perResourceLabels) throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "forkd-obs-");
        ServerConfig config = ServerConfig.defaults(new ForkdPaths(dir))
                .withListen(new ListenAddress.Unix(dir.resolve("s.sock"))).withAgents(agents);
        server = ForkdServer.start(config,
                new MetricsSettings(Optional.of(new ListenAddress.Tcp("127.0.0.1", 0)), perResourceLabels));
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(dir.resolve("s.sock").toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
    }

    int metricsPort() {
        return server.metricsPort().orElseThrow();
    }

    ProcessServiceGrpc.ProcessServiceBlockingStub processes() {
        return ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** Closes, then checks that every agent and child was reaped. */
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
