package dev.forkd.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.forkd.agent.grpc.AgentConnection;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentServiceGrpc;
import dev.forkd.agent.v1.SupervisorMessage;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A supervisor for one agent, on a real Unix socket: records what the agent sends (a bounded queue,
 * so a slow test applies real gRPC backpressure to the agent) and sends the commands a test gives.
 */
final class FakeSupervisor implements AutoCloseable {
    private final String token;
    private final Server server;
    private final EpollEventLoopGroup group = new EpollEventLoopGroup(2);
    private final BlockingQueue<AgentMessage> received = new ArrayBlockingQueue<>(4096);
    private final CompletableFuture<ServerCallStreamObserver<SupervisorMessage>> toAgent = new CompletableFuture<>();
    private final CompletableFuture<Status> agentStreamEnded = new CompletableFuture<>();
    private final AtomicReference<String> tokenSeen = new AtomicReference<>("");
    private final AtomicInteger heartbeats = new AtomicInteger();

    /** On a Unix socket, as the real supervisor runs by default. */
    static FakeSupervisor onUnixSocket(Path socket, String token) throws IOException {
        return new FakeSupervisor(NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class), token);
    }

    /** On a free TCP port of 127.0.0.1; see {@link #port()}. */
    static FakeSupervisor onTcp(String token) throws IOException {
        return new FakeSupervisor(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .channelType(EpollServerSocketChannel.class), token);
    }

    private FakeSupervisor(NettyServerBuilder builder, String token) throws IOException {
        this.token = token;
        ServerInterceptor auth = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                              ServerCallHandler<Q, R> next) {
                String sent = headers.get(AgentConnection.TOKEN_HEADER);
                tokenSeen.set(sent == null ? "" : sent);
                if (!FakeSupervisor.this.token.equals(sent)) {
                    call.close(Status.UNAUTHENTICATED.withDescription("bad agent token"), new Metadata());
                    return new ServerCall.Listener<>() { };
                }
                return next.startCall(call, headers);
            }
        };
        server = builder
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .addService(ServerInterceptors.intercept(new Service(), auth))
                .build()
                .start();
    }

    private final class Service extends AgentServiceGrpc.AgentServiceImplBase {
        @Override
        public StreamObserver<AgentMessage> connect(StreamObserver<SupervisorMessage> responses) {
            toAgent.complete((ServerCallStreamObserver<SupervisorMessage>) responses);
            return new StreamObserver<>() {
                @Override
                public void onNext(AgentMessage message) {
                    if (message.hasHeartbeat()) {
                        heartbeats.incrementAndGet();
                        return;
                    }
                    if (message.hasRegister()) {
                        // Admitted, as the real supervisor does: the agent's events flow from here.
                        synchronized (responses) {
                            responses.onNext(SupervisorMessage.newBuilder()
                                    .setAccepted(dev.forkd.agent.v1.RegisterAccepted.getDefaultInstance()).build());
                        }
                    }
                    try {
                        // Blocks this call's executor thread when the test is slow: that is backpressure.
                        received.put(message);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    agentStreamEnded.complete(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                    agentStreamEnded.complete(Status.OK);
                    responses.onCompleted();
                }
            };
        }
    }

    int port() {
        return server.getPort();
    }

    String tokenSeen() {
        return tokenSeen.get();
    }

    int heartbeats() {
        return heartbeats.get();
    }

    void send(SupervisorMessage message) throws Exception {
        ServerCallStreamObserver<SupervisorMessage> stream = toAgent.get(20, TimeUnit.SECONDS);
        synchronized (stream) {
            stream.onNext(message);
        }
    }

    /** Ends the stream from the supervisor's side, as if it died. */
    void cancelStream() throws Exception {
        ServerCallStreamObserver<SupervisorMessage> stream = toAgent.get(20, TimeUnit.SECONDS);
        synchronized (stream) {
            stream.onError(Status.UNAVAILABLE.withDescription("supervisor going away").asException());
        }
    }

    /** The next event other than a heartbeat; fails the test if none comes in time. */
    AgentMessage next(Duration timeout) throws InterruptedException {
        AgentMessage message = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (message == null) {
            fail("no message from the agent within " + timeout);
        }
        return message;
    }

    /** Whether the agent sent anything more (other than heartbeats) within the time. */
    boolean nothingWithin(Duration timeout) throws InterruptedException {
        return received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS) == null;
    }

    CompletableFuture<Status> agentStreamEnded() {
        return agentStreamEnded;
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }
}
