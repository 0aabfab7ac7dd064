package dev.forkd.client;

import dev.forkd.address.ListenAddress;
import dev.forkd.v1.EventServiceGrpc;
import dev.forkd.v1.PipeServiceGrpc;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProgramServiceGrpc;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A connection to one forkd server: a channel over a Unix socket, or TCP with TLS or plaintext, with the bearer
 * token and session header on every call, and the stubs over it.
 *
 * <p>Calls that change nothing are repeated while the server is away, as {@link RetryPolicy} says, and
 * the connection is dialled again at most about a second apart ({@link ReconnectPacer}), so that a
 * restarted server is found while they are still being repeated.
 *
 * <p>Closing does not wait for the transport to wind down: a CLI command is finished once its last
 * answer arrived, and the process exits right after.
 */
public final class ForkdClient implements AutoCloseable {

    /** The metadata header that names the caller's session. */
    public static final Metadata.Key<String> SESSION_HEADER =
            Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER);

    static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final ListenAddress address;
    private final ManagedChannel channel;
    private final Optional<EventLoopGroup> ownGroup;
    private final Optional<ScheduledExecutorService> ownTimer;

    private ForkdClient(ListenAddress address, ManagedChannel channel, Optional<EventLoopGroup> ownGroup,
            Optional<ScheduledExecutorService> ownTimer) {
        this.address = address;
        this.channel = channel;
        this.ownGroup = ownGroup;
        this.ownTimer = ownTimer;
    }

    /**
     * Makes a channel to {@code address}. Nothing is dialled until the first call.
     *
     * @param token sent as {@code authorization: Bearer <token>} when present
     * @param session sent as the {@code forkd-session} header when present
     */
    public static ForkdClient connect(ListenAddress address, Optional<String> token, Optional<String> session) {
        try {
            return connect(address, token, session, ClientTls.none());
        } catch (IOException e) {
            throw new IllegalStateException("plaintext needs no files", e);
        }
    }

    /**
     * Makes a channel to {@code address}, over TLS for TCP when {@code tls} asks for it. Nothing is
     * dialled until the first call.
     *
     * @throws IOException if a TLS file cannot be read, or a key file is readable by others
     */
    public static ForkdClient connect(ListenAddress address, Optional<String> token, Optional<String> session,
            ClientTls tls) throws IOException {
        List<ClientInterceptor> interceptors = new ArrayList<>(1);
        Metadata headers = new Metadata();
        token.ifPresent(t -> headers.put(AUTHORIZATION, "Bearer " + t));
        session.ifPresent(s -> headers.put(SESSION_HEADER, s));
        if (!headers.keys().isEmpty()) {
            interceptors.add(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return switch (address) {
            case ListenAddress.Unix unix -> {
                // One event-loop thread is plenty for a client; daemon, so it never holds the JVM up.
                EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                        1, new DefaultThreadFactory("forkd-client", true), EpollIoHandler.newFactory());
                ManagedChannel channel = RetryPolicy.applyTo(NettyChannelBuilder
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
                ReconnectPacer.pace(channel, group);
                yield new ForkdClient(address, channel, Optional.of(group), Optional.empty());
            }
            case ListenAddress.Tcp tcp -> {
                NettyChannelBuilder builder = tls.enabled()
                        ? NettyChannelBuilder.forAddress(tcp.host(), tcp.port(), tls.credentials())
                        : NettyChannelBuilder.forAddress(tcp.host(), tcp.port()).usePlaintext();
                ManagedChannel channel = RetryPolicy.applyTo(builder).intercept(interceptors).build();
                ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "forkd-client-reconnect");
                    t.setDaemon(true);
                    return t;
                });
                ReconnectPacer.pace(channel, timer);
                yield new ForkdClient(address, channel, Optional.empty(), Optional.of(timer));
            }
        };
    }

    /** Where this client dials. */
    public ListenAddress address() {
        return address;
    }

    public ManagedChannel channel() {
        return channel;
    }

    public ProcessServiceGrpc.ProcessServiceBlockingStub processes() {
        return ProcessServiceGrpc.newBlockingStub(channel);
    }

    public ProcessServiceGrpc.ProcessServiceStub processesAsync() {
        return ProcessServiceGrpc.newStub(channel);
    }

    public SessionServiceGrpc.SessionServiceBlockingStub sessions() {
        return SessionServiceGrpc.newBlockingStub(channel);
    }

    public SessionServiceGrpc.SessionServiceStub sessionsAsync() {
        return SessionServiceGrpc.newStub(channel);
    }

    public SyncServiceGrpc.SyncServiceBlockingStub sync() {
        return SyncServiceGrpc.newBlockingStub(channel);
    }

    public SyncServiceGrpc.SyncServiceStub syncAsync() {
        return SyncServiceGrpc.newStub(channel);
    }

    public SharedServiceGrpc.SharedServiceBlockingStub shared() {
        return SharedServiceGrpc.newBlockingStub(channel);
    }

    public QueueServiceGrpc.QueueServiceBlockingStub queues() {
        return QueueServiceGrpc.newBlockingStub(channel);
    }

    public QueueServiceGrpc.QueueServiceStub queuesAsync() {
        return QueueServiceGrpc.newStub(channel);
    }

    public PipeServiceGrpc.PipeServiceBlockingStub pipes() {
        return PipeServiceGrpc.newBlockingStub(channel);
    }

    public PipeServiceGrpc.PipeServiceStub pipesAsync() {
        return PipeServiceGrpc.newStub(channel);
    }

    public PoolServiceGrpc.PoolServiceBlockingStub pools() {
        return PoolServiceGrpc.newBlockingStub(channel);
    }

    public PoolServiceGrpc.PoolServiceStub poolsAsync() {
        return PoolServiceGrpc.newStub(channel);
    }

    /** The server's event stream ({@code forkd events}). */
    public EventServiceGrpc.EventServiceBlockingStub events() {
        return EventServiceGrpc.newBlockingStub(channel);
    }

    /** The programs declared in the server's config file: start, stop, restart, reload. */
    public ProgramServiceGrpc.ProgramServiceBlockingStub programs() {
        return ProgramServiceGrpc.newBlockingStub(channel);
    }

    /** The server itself: {@code Shutdown} (admin only). */
    public dev.forkd.v1.ServerServiceGrpc.ServerServiceBlockingStub server() {
        return dev.forkd.v1.ServerServiceGrpc.newBlockingStub(channel);
    }

    /** gRPC's standard health service ({@code grpc.health.v1}), which the server answers. */
    public HealthGrpc.HealthBlockingStub health() {
        return HealthGrpc.newBlockingStub(channel);
    }

    /**
     * Opens a session and keeps it alive until the returned handle is closed (or this process
     * dies, which ends the stream and so the session).
     */
    public ClientSession openSession(String name, Duration ttl, Duration openTimeout) {
        return ClientSession.open(sessionsAsync(), name, ttl, openTimeout);
    }

    /** An interceptor that sends {@code sessionId} as the {@code forkd-session} header. */
    public static ClientInterceptor sessionHeader(String sessionId) {
        Metadata headers = new Metadata();
        headers.put(SESSION_HEADER, sessionId);
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    /** Cancels whatever is in flight and lets the transport go without waiting for it. */
    @Override
    public void close() {
        channel.shutdownNow();
        ownGroup.ifPresent(g -> g.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS));
        ownTimer.ifPresent(ScheduledExecutorService::shutdownNow);
    }
}
