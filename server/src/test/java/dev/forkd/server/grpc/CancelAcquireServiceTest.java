package dev.forkd.server.grpc;

import static dev.forkd.server.testing.ErrorDetails.field;
import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.session.SessionRegistry;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.CancelAcquireRequest;
import dev.forkd.v1.CancelAcquireResponse;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** CancelAcquire over the wire: what a client calls after giving up on an Acquire it never saw answered. */
@Timeout(60)
class CancelAcquireServiceTest {

    private InProcessServer server;

    @BeforeEach
    void start() throws Exception {
        server = InProcessServer.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private SyncServiceGrpc.SyncServiceBlockingStub as(String credential) {
        var stub = SyncServiceGrpc.newBlockingStub(server.channel()).withDeadlineAfter(20, TimeUnit.SECONDS);
        if (credential.isEmpty()) {
            return stub;
        }
        Metadata h = new Metadata();
        h.put(Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER), credential);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
    }

    private String session() {
        return server.sessions().open("test", SessionRegistry.DEFAULT_TTL).credential();
    }

    /** Until the server has queued the waiters: each look is a round trip, up to a deadline. */
    private void awaitWaiters(String credential, String name, int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (as(credential).get(GetSyncRequest.newBuilder().setName(name).build()).getInfo().getWaiters() < n) {
            assertTrue(System.nanoTime() < deadline, "no waiter arrived at " + name);
        }
    }

    private static CancelAcquireRequest cancel(String name, String waitId) {
        return CancelAcquireRequest.newBuilder().setName(name).setWaitId(waitId).build();
    }

    @Test
    void aGrantAnsweredToACallerWhoHadGoneIsReleasedForTheNext() throws Exception {
        String holder = session();
        String gaveUp = session();
        String next = session();
        as(holder).acquire(AcquireRequest.newBuilder().setName("l").build());
        CompletableFuture<AcquireResponse> unseen = CompletableFuture.supplyAsync(() -> as(gaveUp)
                .acquire(AcquireRequest.newBuilder().setName("l").setWaitId("w-1").build()));
        awaitWaiters(holder, "l", 1);
        as(holder).release(ReleaseRequest.newBuilder().setName("l").build());
        assertTrue(unseen.get(20, TimeUnit.SECONDS).getAcquired(), "granted; its caller is taken to have gone");
        CancelAcquireResponse undone = as(gaveUp).cancelAcquire(cancel("l", "w-1"));
        assertTrue(undone.getReleased());
        assertFalse(undone.getWasWaiting());
        assertTrue(as(next).acquire(AcquireRequest.newBuilder().setName("l").setTimeout(
                com.google.protobuf.Duration.newBuilder().setSeconds(0)).build()).getAcquired(), "the lock is free again");
    }

    @Test
    void aCancelBeforeItsAcquireMakesTheAcquireTakeNothing() {
        String s = session();
        CancelAcquireResponse early = as(s).cancelAcquire(cancel("l2", "w-2"));
        assertFalse(early.getReleased() || early.getWasWaiting());
        assertFalse(as(s).acquire(AcquireRequest.newBuilder().setName("l2").setWaitId("w-2").build()).getAcquired());
        var e = assertThrows(StatusRuntimeException.class,
                () -> as(s).get(GetSyncRequest.newBuilder().setName("l2").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), "the late Acquire created nothing");
    }

    @Test
    void badRequestsAreRefusedWithTheirReason() {
        var noSession = assertThrows(StatusRuntimeException.class, () -> as("").cancelAcquire(cancel("l", "w")));
        assertEquals(Status.Code.FAILED_PRECONDITION, noSession.getStatus().getCode());
        assertEquals("SESSION_REQUIRED", reason(noSession));
        var noId = assertThrows(StatusRuntimeException.class, () -> as(session()).cancelAcquire(cancel("l", "")));
        assertEquals(Status.Code.INVALID_ARGUMENT, noId.getStatus().getCode());
        assertEquals("wait_id", field(noId));
        var badId = assertThrows(StatusRuntimeException.class, () -> as(session()).acquire(
                AcquireRequest.newBuilder().setName("l").setWaitId("not an id").build()));
        assertEquals("wait_id", field(badId));
    }
}
