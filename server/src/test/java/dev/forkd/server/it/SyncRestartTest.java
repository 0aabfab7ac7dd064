package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import dev.forkd.server.ForkdServer;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.StoreConfig;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real server stopped and started again on the same state directory: a session that resumes keeps
 * its lock; one that does not come back ends, and its lock passes on abandoned.
 */
@Timeout(180)
class SyncRestartTest {

    private static final Metadata.Key<String> SESSION = Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER);

    private final EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    private Path dir;

    @AfterEach
    void clean() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private ForkdServer start() throws Exception {
        return ForkdServer.start(ServerConfig.defaults(new ForkdPaths(dir))
                .withListen(new ListenAddress.Unix(dir.resolve("s.sock")))
                .withAgents(1)
                .withStore(StoreConfig.in(dir.resolve("state"), false)));
    }

    private ManagedChannel channel() {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(dir.resolve("s.sock").toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
    }

    /** A keep-alive stream: its first answer, and the stream to end it. */
    private record Opened(OpenSessionResponse first, StreamObserver<OpenSessionRequest> stream) {}

    private static Opened open(ManagedChannel ch, OpenSessionRequest first) throws Exception {
        CompletableFuture<OpenSessionResponse> answer = new CompletableFuture<>();
        StreamObserver<OpenSessionRequest> stream = SessionServiceGrpc.newStub(ch).open(new StreamObserver<>() {
            @Override
            public void onNext(OpenSessionResponse r) {
                answer.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        stream.onNext(first);
        return new Opened(answer.get(30, TimeUnit.SECONDS), stream);
    }

    private static SyncServiceGrpc.SyncServiceBlockingStub sync(ManagedChannel ch, String credential) {
        Metadata headers = new Metadata();
        headers.put(SESSION, credential);
        return SyncServiceGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    private static OpenSessionRequest ttl(long seconds) {
        return OpenSessionRequest.newBuilder().setTtl(Duration.newBuilder().setSeconds(seconds)).build();
    }

    private static AcquireRequest lock(String name) {
        return AcquireRequest.newBuilder().setName(name).setKind(SyncKind.SYNC_KIND_LOCK).build();
    }

    @Test
    void aResumedSessionKeepsItsLockAndOneThatDoesNotComeBackPassesItsLockOnAbandoned() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "forkd-restart-");
        String stayingId;
        String stayingCredential;
        long keptToken;
        long droppedToken;
        ManagedChannel before = channel();
        try (ForkdServer first = start()) {
            Opened staying = open(before, ttl(60));
            Opened leaving = open(before, ttl(2));
            stayingId = staying.first().getSessionId();
            stayingCredential = staying.first().getCredential();
            AcquireResponse kept = sync(before, stayingCredential).acquire(lock("kept"));
            AcquireResponse dropped = sync(before, leaving.first().getCredential()).acquire(lock("dropped"));
            assertTrue(kept.getAcquired() && dropped.getAcquired());
            keptToken = kept.getFencingToken();
            droppedToken = dropped.getFencingToken();
        } finally { // the server stops while both keep-alive streams are open; then the client goes
            before.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }

        try (ForkdServer second = start()) {
            ManagedChannel ch = channel();
            try {
                Opened resumed = open(ch, OpenSessionRequest.newBuilder().setCredential(stayingCredential).build());
                assertEquals(stayingId, resumed.first().getSessionId());
                assertEquals("", resumed.first().getCredential(), "a resumed session's credential is not sent again");
                assertEquals(60, resumed.first().getTtl().getSeconds());

                var kept = sync(ch, stayingCredential).get(GetSyncRequest.newBuilder().setName("kept").build()).getInfo();
                assertEquals(stayingId, kept.getHolderSession(), "the resumed session still holds its lock");
                assertEquals(keptToken, kept.getFencingToken());

                Opened other = open(ch, ttl(60));
                // Granted once the session that did not come back ends (its 2 s lease, from the start).
                AcquireResponse passed = sync(ch, other.first().getCredential()).acquire(lock("dropped").toBuilder()
                        .setTimeout(Duration.newBuilder().setSeconds(60)).build());
                assertTrue(passed.getAcquired());
                assertTrue(passed.getAbandoned(), "its holder never came back");
                assertTrue(passed.getFencingToken() > Math.max(keptToken, droppedToken),
                        passed.getFencingToken() + " is not past the tokens of the first server");

                // The lock is still the resumed session's own to release.
                sync(ch, stayingCredential).release(ReleaseRequest.newBuilder().setName("kept").build());
                var freed = sync(ch, stayingCredential).get(GetSyncRequest.newBuilder().setName("kept").build()).getInfo();
                assertFalse(freed.getHolderSession().equals(stayingId));
                resumed.stream().onCompleted();
                other.stream().onCompleted();
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
