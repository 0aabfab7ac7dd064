package dev.forkd.client;

import dev.forkd.address.ListenAddress;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The grpc-java channel of a {@link ForkdClient} (netty, over a Unix socket or TCP with or without
 * TLS), with its retry policy, reconnect pacing and headers; built at its first use, and once.
 */
final class GrpcTransport {

    private final ListenAddress address;
    private final ClientTls tls;
    private final List<ClientInterceptor> interceptors;
    // Guarded by this: built once, at the first call of open().
    private ManagedChannel channel;
    private Optional<EventLoopGroup> ownGroup = Optional.empty();
    private Optional<ScheduledExecutorService> ownTimer = Optional.empty();

    GrpcTransport(ListenAddress address, ClientTls tls, List<ClientInterceptor> interceptors) {
        this.address = address;
        this.tls = tls;
        this.interceptors = List.copyOf(interceptors);
    }

    /**
     * The channel, built now if it was not yet. Nothing is dialled until its first call.
     *
     * @throws IOException if a TLS file cannot be read, or a key file is readable by others
     */
    synchronized ManagedChannel open() throws IOException {
        if (channel == null) {
            channel = build();
        }
        return channel;
    }

    /** {@link #open()} for where the TLS files were read before (or there are none). */
    ManagedChannel channel() {
        try {
            return open();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ManagedChannel build() throws IOException {
        return switch (address) {
            case ListenAddress.Unix unix -> {
                // One event-loop thread is plenty for a client; daemon, so it never holds the JVM up.
                EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                        1, new DefaultThreadFactory("forkd-client", true), EpollIoHandler.newFactory());
                ManagedChannel built = RetryPolicy.applyTo(NettyChannelBuilder
                        .forAddress(new DomainSocketAddress(unix.path().toString())))
                        .channelType(EpollDomainSocketChannel.class, DomainSocketAddress.class)
                        .eventLoopGroup(group)
                        .overrideAuthority("localhost")
                        .usePlaintext()
                        // grpc-java sets SO_KEEPALIVE on every client socket; a Unix socket has no such
                        // option and netty logged a warning for each connection. null removes it.
                        .withOption(ChannelOption.SO_KEEPALIVE, null)
                        .intercept(interceptors)
                        .build();
                ReconnectPacer.pace(built, group);
                ownGroup = Optional.of(group);
                yield built;
            }
            case ListenAddress.Tcp tcp -> {
                NettyChannelBuilder builder = tls.enabled()
                        ? NettyChannelBuilder.forAddress(tcp.host(), tcp.port(), tls.credentials())
                        : NettyChannelBuilder.forAddress(tcp.host(), tcp.port()).usePlaintext();
                ManagedChannel built = RetryPolicy.applyTo(builder).intercept(interceptors).build();
                ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "forkd-client-reconnect");
                    t.setDaemon(true);
                    return t;
                });
                ReconnectPacer.pace(built, timer);
                ownTimer = Optional.of(timer);
                yield built;
            }
        };
    }

    /** Cancels whatever is in flight and lets the transport go without waiting for it; nothing if never built. */
    synchronized void close() {
        if (channel != null) {
            channel.shutdownNow();
        }
        ownGroup.ifPresent(g -> g.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS));
        ownTimer.ifPresent(ScheduledExecutorService::shutdownNow);
    }
}
