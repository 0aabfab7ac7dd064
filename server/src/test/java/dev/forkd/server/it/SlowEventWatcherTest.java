package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.EventKind;
import dev.forkd.v1.EventServiceGrpc;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.WatchEventsRequest;
import dev.forkd.v1.WatchEventsResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A watcher that reads nothing while thousands of events happen neither slows nor stops the server:
 * once it reads again, it gets what fitted its buffer and one "missed N" for the rest, and every
 * event is accounted for.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SlowEventWatcherTest {

    /** More than the per-watcher buffer (4,096) plus what gRPC's flow-control windows hold. */
    private static final int GRANTS = 6000;

    @Test
    void aWatcherThatDoesNotReadIsToldWhatItMissedAndTheServerGoesOn() throws Exception {
        RealServer forkd = new RealServer(1);
        EpollEventLoopGroup group = new EpollEventLoopGroup(1);
        try {
            String lock = "slow-watch-lock";
            BlockingQueue<WatchEventsResponse> got = new LinkedBlockingQueue<>();
            CompletableFuture<ClientCallStreamObserver<WatchEventsRequest>> call = new CompletableFuture<>();
            // A small fixed HTTP/2 window, so the transport cannot soak up what the watcher does not read.
            ManagedChannel slow = NettyChannelBuilder.forAddress(new DomainSocketAddress(forkd.dir.resolve("s.sock").toString()))
                    .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext()
                    .flowControlWindow(16 * 1024).build();
            EventServiceGrpc.newStub(slow).watch(WatchEventsRequest.newBuilder().addNames(lock)
                    .addKinds(EventKind.EVENT_KIND_LOCK_GRANTED).build(),
                    new ClientResponseObserver<WatchEventsRequest, WatchEventsResponse>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<WatchEventsRequest> requests) {
                            requests.disableAutoRequestWithInitial(1); // only `started`, then nothing
                            call.complete(requests);
                        }

                        @Override
                        public void onNext(WatchEventsResponse r) {
                            got.add(r);
                        }

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                    });
            assertTrue(got.poll(30, TimeUnit.SECONDS).hasStarted());

            var sync = asSession(forkd, SyncServiceGrpc.newBlockingStub(forkd.channel));
            for (int i = 0; i < GRANTS; i++) {
                sync.withDeadlineAfter(30, TimeUnit.SECONDS).acquire(AcquireRequest.newBuilder().setName(lock).build());
                sync.withDeadlineAfter(30, TimeUnit.SECONDS).release(ReleaseRequest.newBuilder().setName(lock).build());
            }

            call.get().request(Integer.MAX_VALUE);
            long events = 0;
            long missed = 0;
            while (events + missed < GRANTS) {
                WatchEventsResponse r = got.poll(30, TimeUnit.SECONDS);
                if (r == null) {
                    throw new AssertionError("stuck at " + events + " events and " + missed + " missed");
                }
                if (r.hasEvent()) {
                    events++;
                } else {
                    missed += r.getMissed().getCount();
                }
            }
            assertEquals(GRANTS, events + missed);
            assertTrue(missed > 0 && events >= 4096, events + " events, " + missed + " missed");
            call.get().cancel("done", null);
            slow.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            forkd.closeLeavingNothing();
        }
    }

    private static SyncServiceGrpc.SyncServiceBlockingStub asSession(RealServer forkd,
            SyncServiceGrpc.SyncServiceBlockingStub stub) throws Exception {
        CompletableFuture<OpenSessionResponse> opened = new CompletableFuture<>();
        StreamObserver<OpenSessionRequest> session = SessionServiceGrpc.newStub(forkd.channel).open(new StreamObserver<>() {
            @Override
            public void onNext(OpenSessionResponse r) {
                opened.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                opened.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        session.onNext(OpenSessionRequest.newBuilder().setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(120))
                .build());
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER),
                opened.get(30, TimeUnit.SECONDS).getCredential());
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
}
