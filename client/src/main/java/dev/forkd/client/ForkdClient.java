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
import dev.forkd.client.direct.DirectChannel;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.MethodDescriptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
    /** What the stubs call through: the grpc channel, or unary calls routed to a direct one. */
    private final Channel calls;
    private final GrpcTransport grpc;
    private final Optional<DirectChannel> direct;

    private ForkdClient(ListenAddress address, Channel calls, GrpcTransport grpc, Optional<DirectChannel> direct) {
        this.address = address;
        this.calls = calls;
        this.grpc = grpc;
        this.direct = direct;
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
        GrpcTransport grpc = new GrpcTransport(address, tls, interceptors(token, session));
        return new ForkdClient(address, grpc.open(), grpc, Optional.empty());
    }

    /**
     * A client for a short-lived command: its unary calls over a Unix socket or plaintext TCP go
     * through a {@link DirectChannel} on the calling thread, which starts in a fraction of the time
     * grpc's channel takes; streaming calls, and everything over TLS, take the grpc channel, built
     * at its first use. Meant for blocking stubs: a unary call blocks its caller even on an async stub.
     *
     * @throws IOException if a TLS file cannot be read, or a key file is readable by others
     */
    public static ForkdClient connectForCommand(ListenAddress address, Optional<String> token,
            Optional<String> session, ClientTls tls) throws IOException {
        List<ClientInterceptor> interceptors = interceptors(token, session);
        // if/else, not a pattern switch: a type switch spins a class at its first run, which costs a
        // one-shot command more than the test.
        Optional<DirectChannel> direct = Optional.empty();
        if (address instanceof ListenAddress.Unix unix) {
            direct = Optional.of(new DirectChannel(UnixDomainSocketAddress.of(unix.path()), "localhost"));
        } else if (address instanceof ListenAddress.Tcp tcp && !tls.enabled()) {
            direct = Optional.of(new DirectChannel(new InetSocketAddress(tcp.host(), tcp.port()),
                    tcp.host() + ":" + tcp.port()));
        }
        if (direct.isEmpty()) {
            return connect(address, token, session, tls);
        }
        GrpcTransport grpc = new GrpcTransport(address, tls, interceptors);
        DirectChannel directChannel = direct.get();
        Channel unary = ClientInterceptors.intercept(directChannel, interceptors);
        Channel routed = new Channel() {
            @Override
            public <Q, A> ClientCall<Q, A> newCall(MethodDescriptor<Q, A> method, CallOptions options) {
                return method.getType() == MethodDescriptor.MethodType.UNARY
                        ? unary.newCall(method, options) : grpc.channel().newCall(method, options);
            }

            @Override
            public String authority() {
                return directChannel.authority();
            }
        };
        return new ForkdClient(address, routed, grpc, direct);
    }

    private static List<ClientInterceptor> interceptors(Optional<String> token, Optional<String> session) {
        List<ClientInterceptor> interceptors = new ArrayList<>(1);
        Metadata headers = new Metadata();
        token.ifPresent(t -> headers.put(AUTHORIZATION, "Bearer " + t));
        session.ifPresent(s -> headers.put(SESSION_HEADER, s));
        if (!headers.keys().isEmpty()) {
            interceptors.add(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return interceptors;
    }

    /** Where this client dials. */
    public ListenAddress address() {
        return address;
    }

    /** The grpc channel (built now if it was not yet), with this client's headers. */
    public ManagedChannel channel() {
        return grpc.channel();
    }

    public ProcessServiceGrpc.ProcessServiceBlockingStub processes() {
        return ProcessServiceGrpc.newBlockingStub(calls);
    }

    public ProcessServiceGrpc.ProcessServiceStub processesAsync() {
        return ProcessServiceGrpc.newStub(calls);
    }

    public SessionServiceGrpc.SessionServiceBlockingStub sessions() {
        return SessionServiceGrpc.newBlockingStub(calls);
    }

    public SessionServiceGrpc.SessionServiceStub sessionsAsync() {
        return SessionServiceGrpc.newStub(calls);
    }

    public SyncServiceGrpc.SyncServiceBlockingStub sync() {
        return SyncServiceGrpc.newBlockingStub(calls);
    }

    public SyncServiceGrpc.SyncServiceStub syncAsync() {
        return SyncServiceGrpc.newStub(calls);
    }

    public SharedServiceGrpc.SharedServiceBlockingStub shared() {
        return SharedServiceGrpc.newBlockingStub(calls);
    }

    public QueueServiceGrpc.QueueServiceBlockingStub queues() {
        return QueueServiceGrpc.newBlockingStub(calls);
    }

    public QueueServiceGrpc.QueueServiceStub queuesAsync() {
        return QueueServiceGrpc.newStub(calls);
    }

    public PipeServiceGrpc.PipeServiceBlockingStub pipes() {
        return PipeServiceGrpc.newBlockingStub(calls);
    }

    public PipeServiceGrpc.PipeServiceStub pipesAsync() {
        return PipeServiceGrpc.newStub(calls);
    }

    public PoolServiceGrpc.PoolServiceBlockingStub pools() {
        return PoolServiceGrpc.newBlockingStub(calls);
    }

    public PoolServiceGrpc.PoolServiceStub poolsAsync() {
        return PoolServiceGrpc.newStub(calls);
    }

    /** The server's event stream ({@code forkd events}). */
    public EventServiceGrpc.EventServiceBlockingStub events() {
        return EventServiceGrpc.newBlockingStub(calls);
    }

    /** The programs declared in the server's config file: start, stop, restart, reload. */
    public ProgramServiceGrpc.ProgramServiceBlockingStub programs() {
        return ProgramServiceGrpc.newBlockingStub(calls);
    }

    /** The server itself: {@code Shutdown} (admin only). */
    public dev.forkd.v1.ServerServiceGrpc.ServerServiceBlockingStub server() {
        return dev.forkd.v1.ServerServiceGrpc.newBlockingStub(calls);
    }

    /** gRPC's standard health service ({@code grpc.health.v1}), which the server answers. */
    public HealthGrpc.HealthBlockingStub health() {
        return HealthGrpc.newBlockingStub(calls);
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
        direct.ifPresent(DirectChannel::close);
        grpc.close();
    }
}
