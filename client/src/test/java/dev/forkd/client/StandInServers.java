package dev.forkd.client;

import dev.forkd.address.ListenAddress;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Stand-in gRPC servers on real Unix sockets in a fresh directory per test, for what a real server
 * cannot be made to do on cue (answer UNAVAILABLE, go away mid-call, hand over to another): the
 * client under test dials {@code s.sock}, which a test may point at one server, then another.
 * Everything is stopped and deleted after each test.
 */
final class StandInServers implements BeforeEachCallback, AfterEachCallback {

    private final String prefix;
    private final List<Server> servers = new CopyOnWriteArrayList<>();
    private Path dir;
    private EventLoopGroup group;

    StandInServers(String prefix) {
        this.prefix = prefix;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), prefix);
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (Server s : servers) {
            s.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        servers.clear();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** The test's directory. */
    Path dir() {
        return dir;
    }

    /** Serves {@code service} on the Unix socket {@code socket}. */
    Server serve(BindableService service, Path socket) throws Exception {
        Server s = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(group).workerEventLoopGroup(group)
                .addService(service).build().start();
        servers.add(s);
        return s;
    }

    /** A client of whatever serves {@code s.sock}. */
    ForkdClient connect() {
        return ForkdClient.connect(new ListenAddress.Unix(dir.resolve("s.sock")), Optional.empty(), Optional.empty());
    }
}
