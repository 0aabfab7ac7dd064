package dev.forkd.server;

import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.PrivateFiles;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.TcpSecurity;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerServiceDefinition;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The sockets the server listens on, and their protection.
 *
 * <ul>
 *   <li>A Unix socket: in a directory only this user may enter (refused otherwise), itself {@code 0600}
 *       whatever the umask.
 *   <li>TCP: TLS with grpc-java's credentials (client certificates required with a client CA), or
 *       plaintext when asked for on loopback. Beside it, a private Unix socket in the state directory
 *       for the agents and for children calling back: neither needs TLS material then, and the agent
 *       channel never touches the network.
 * </ul>
 */
final class Listeners {

    private static final int MAX_SOCKET_PATH = 107;

    /**
     * The started servers: the public one, for TCP the private socket beside it, and the health-only
     * listener if one was asked for.
     */
    record Started(Server publicServer, Optional<Server> localServer, ListenAddress address,
            ListenAddress.Unix local, OwnSocket localSocket, Optional<Server> healthServer) {

        /** Every server, the public one first. */
        List<Server> all() {
            List<Server> all = new ArrayList<>(3);
            all.add(publicServer);
            localServer.ifPresent(all::add);
            healthServer.ifPresent(all::add);
            return all;
        }

        /** Where the health-only listener is bound (the real port when 0 was asked). */
        Optional<ListenAddress.Tcp> healthAddress() {
            return healthServer.map(s -> {
                InetSocketAddress a = (InetSocketAddress) s.getListenSockets().getFirst();
                return new ListenAddress.Tcp(a.getAddress().getHostAddress(), a.getPort());
            });
        }

        Started withHealth(Server health) {
            return new Started(publicServer, localServer, address, local, localSocket, Optional.of(health));
        }
    }

    private Listeners() {}

    /**
     * Checks what the listeners need (socket directories, TLS files) and starts them all with
     * {@code services}; the health-only listener, if configured, with {@code health} alone.
     * {@code common} sets what every builder shares (executors, keep-alive).
     *
     * @throws IOException naming the path or file at fault, or the address that cannot be bound
     */
    static Started start(ServerConfig config, List<ServerServiceDefinition> services,
            ServerServiceDefinition health, Consumer<NettyServerBuilder> common) throws IOException {
        Started started = startMain(config, services, common);
        if (config.healthListen().isEmpty()) {
            return started;
        }
        ListenAddress.Tcp at = config.healthListen().get();
        // Plaintext and without credentials by design: it answers only "serving or not".
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(at.host(), at.port()))
                .channelType(EpollServerSocketChannel.class);
        common.accept(builder);
        try {
            return started.withHealth(builder.addService(health).build().start());
        } catch (IOException | RuntimeException e) {
            for (Server s : started.all()) {
                s.shutdownNow();
            }
            started.localSocket().remove();
            throw new IOException("cannot serve health on " + at + ": " + e.getMessage(), e);
        }
    }

    private static Started startMain(ServerConfig config, List<ServerServiceDefinition> services,
            Consumer<NettyServerBuilder> common) throws IOException {
        return switch (config.listen()) {
            case ListenAddress.Unix u -> {
                Server server = startUnix(u.path(), services, common);
                yield new Started(server, Optional.empty(), u, u, OwnSocket.bound(u.path()), Optional.empty());
            }
            case ListenAddress.Tcp t -> {
                ServerCredentials credentials = credentials(config.tcpSecurity());
                NettyServerBuilder builder;
                try {
                    builder = NettyServerBuilder.forAddress(new InetSocketAddress(t.host(), t.port()), credentials);
                } catch (IllegalArgumentException e) {
                    // netty parses the PEM here: a bad certificate or key is known at start, not per call
                    throw new IOException("cannot use the TLS files " + tlsFiles(config.tcpSecurity()) + ": "
                            + e.getMessage(), e);
                }
                builder.channelType(EpollServerSocketChannel.class);
                common.accept(builder);
                services.forEach(builder::addService);
                // The private socket first, so the agents' way in exists before anyone can call; if
                // the port then cannot be bound, it is removed again below.
                Path localPath = config.stateDir().resolve("forkd-" + ProcessHandle.current().pid() + ".sock");
                Server local = startUnix(localPath, services, common);
                Server server;
                try {
                    server = builder.build().start();
                } catch (IOException | RuntimeException e) {
                    local.shutdownNow();
                    Files.deleteIfExists(localPath);
                    throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
                }
                int port = ((InetSocketAddress) server.getListenSockets().getFirst()).getPort();
                yield new Started(server, Optional.of(local), new ListenAddress.Tcp(t.host(), port),
                        new ListenAddress.Unix(localPath), OwnSocket.bound(localPath), Optional.empty());
            }
        };
    }

    private static Server startUnix(Path socket, List<ServerServiceDefinition> services,
            Consumer<NettyServerBuilder> common) throws IOException {
        if (socket.toString().length() > MAX_SOCKET_PATH) {
            throw new IOException("the socket path " + socket + " is longer than " + MAX_SOCKET_PATH + " bytes");
        }
        PrivateFiles.prepareDirectory(socket.getParent());
        removeStale(socket);
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class);
        common.accept(builder);
        // grpc-java sets SO_KEEPALIVE on every accepted channel; a Unix socket has no such option and
        // Netty warned about it for every client connection. Set after `common`, so it wins.
        builder.withChildOption(io.grpc.netty.shaded.io.netty.channel.ChannelOption.SO_KEEPALIVE, null);
        services.forEach(builder::addService);
        Server server = builder.build().start();
        // bind() made it with the umask's mode; the 0700 directory kept everyone else out meanwhile.
        try {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            server.shutdownNow();
            throw new IOException("cannot make the socket " + socket + " private: " + e.getMessage(), e);
        }
        return server;
    }

    /** No stale socket in the way, nor a live server. */
    private static void removeStale(Path socket) throws IOException {
        if (!Files.exists(socket)) {
            return;
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            Files.delete(socket); // stale: nobody answers
            return;
        }
        throw new IOException("a forkd server is already listening at unix:" + socket);
    }

    private static String tlsFiles(TcpSecurity security) {
        return security instanceof TcpSecurity.Tls tls
                ? tls.certChain() + ", " + tls.privateKey() + tls.clientCa().map(ca -> ", " + ca).orElse("")
                : "(none)";
    }

    private static ServerCredentials credentials(TcpSecurity security) throws IOException {
        return switch (security) {
            case TcpSecurity.InsecurePlaintext p -> InsecureServerCredentials.create();
            case TcpSecurity.Unset u -> throw new IOException("TCP without TLS needs --insecure-plaintext");
            case TcpSecurity.Tls tls -> {
                PrivateFiles.requirePrivate(tls.privateKey(), "TLS key file");
                TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder();
                try {
                    b.keyManager(tls.certChain().toFile(), tls.privateKey().toFile());
                } catch (IOException e) {
                    throw new IOException("cannot read the TLS certificate " + tls.certChain() + " or key "
                            + tls.privateKey() + ": " + e.getMessage(), e);
                }
                if (tls.clientCa().isPresent()) {
                    Path ca = tls.clientCa().get();
                    try {
                        b.trustManager(ca.toFile());
                    } catch (IOException | RuntimeException e) {
                        throw new IOException("cannot read the client CA " + ca + ": " + e.getMessage(), e);
                    }
                    b.clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
                }
                yield b.build();
            }
        };
    }
}
