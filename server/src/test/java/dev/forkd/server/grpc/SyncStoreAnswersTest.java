package dev.forkd.server.grpc;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import dev.forkd.server.sync.SyncTable;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.ReleaseResponse;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A lock change is answered only once the store has it; a failed write is answered UNAVAILABLE; a
 * kept session is resumed only with its credential, and only if it is a leased one.
 */
@Timeout(60)
class SyncStoreAnswersTest {

    /** Holds every write until the test commits (or fails) them. */
    private static final class HeldStore implements StateStore {
        private final List<CompletableFuture<Void>> held = new ArrayList<>();

        @Override
        public boolean keeps() {
            return true;
        }

        @Override
        public synchronized CompletableFuture<Void> write(List<StoreWrite> writes) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            held.add(f);
            return f;
        }

        synchronized int pending() {
            return (int) held.stream().filter(f -> !f.isDone()).count();
        }

        void commitAll() {
            List<CompletableFuture<Void>> now;
            synchronized (this) {
                now = List.copyOf(held);
            }
            now.forEach(f -> f.complete(null));
        }

        void failAll() {
            List<CompletableFuture<Void>> now;
            synchronized (this) {
                now = List.copyOf(held);
            }
            now.forEach(f -> f.completeExceptionally(new dev.forkd.server.store.StoreException("disk full")));
        }

        @Override
        public List<StoreRow> load(String kind) {
            return List.of();
        }

        @Override
        public List<String> kinds(String prefix) {
            return List.of();
        }

        @Override
        public void close() {
        }
    }

    private final HeldStore store = new HeldStore();
    private ScheduledExecutorService timers;
    private SessionRegistry sessions;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        timers = Executors.newSingleThreadScheduledExecutor();
        sessions = new SessionRegistry(timers, 100, store);
        SyncTable table = new SyncTable(timers, sessions::exists, SyncTable.Limits.DEFAULT, ServerEvents.NONE,
                System::nanoTime, store);
        sessions.onEnd(table::sessionEnded);
        String name = InProcessServerBuilder.generateName();
        var interceptor = new SessionInterceptor(sessions);
        server = InProcessServerBuilder.forName(name)
                .addService(ServerInterceptors.intercept(new SyncServiceAdapter(table), interceptor))
                .addService(ServerInterceptors.intercept(new SessionServiceAdapter(sessions), interceptor))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        timers.shutdownNow();
    }

    private SyncServiceGrpc.SyncServiceFutureStub sync(String credential) {
        var headers = new io.grpc.Metadata();
        headers.put(Metadata.SESSION, credential);
        return SyncServiceGrpc.newFutureStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** Not answered within a while: a check that can only pass wrongly on a slow machine, never fail wrongly. */
    private static void assertNotAnswered(java.util.concurrent.Future<?> f, String what) throws Exception {
        try {
            f.get(300, TimeUnit.MILLISECONDS);
            throw new AssertionError(what + " was answered before the store had it");
        } catch (java.util.concurrent.TimeoutException expected) {
            // still waiting for the commit
        }
    }

    @Test
    void anAcquireAndAReleaseAreAnsweredOnlyOnceCommitted() throws Exception {
        String credential = sessions.open("a", Duration.ofSeconds(30)).credential();
        store.commitAll();
        var acquired = sync(credential).acquire(AcquireRequest.newBuilder().setName("l").build());
        assertNotAnswered(acquired, "the grant");
        assertTrue(store.pending() > 0);
        store.commitAll();
        AcquireResponse grant = acquired.get(30, TimeUnit.SECONDS);
        assertTrue(grant.getAcquired());

        var released = sync(credential).release(ReleaseRequest.newBuilder().setName("l").build());
        assertNotAnswered(released, "the release");
        store.commitAll();
        ReleaseResponse r = released.get(30, TimeUnit.SECONDS);
        assertEquals(0, r.getDepth());
    }

    @Test
    void aChangeTheStoreCannotKeepIsAnsweredUnavailable() throws Exception {
        String credential = sessions.open("a", Duration.ofSeconds(30)).credential();
        store.commitAll();
        var acquired = sync(credential).acquire(AcquireRequest.newBuilder().setName("l").build());
        assertNotAnswered(acquired, "the grant");
        store.failAll();
        var e = assertThrows(ExecutionException.class, () -> acquired.get(30, TimeUnit.SECONDS));
        var status = (StatusRuntimeException) e.getCause();
        assertEquals(Status.Code.UNAVAILABLE, status.getStatus().getCode());
        assertEquals("STATE_STORE_UNAVAILABLE", reason(status));

        // The grant it could not keep was given back: the caller, told it does not hold the lock, can
        // take it again instead of waiting on itself.
        var again = sync(credential).acquire(AcquireRequest.newBuilder().setName("l").build());
        assertNotAnswered(again, "the second grant");
        store.commitAll();
        assertTrue(again.get(30, TimeUnit.SECONDS).getAcquired());
    }

    private OpenSessionResponse open(OpenSessionRequest first) throws Exception {
        CompletableFuture<OpenSessionResponse> answer = new CompletableFuture<>();
        StreamObserver<OpenSessionRequest> stream = SessionServiceGrpc.newStub(channel).open(new StreamObserver<>() {
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
        try {
            return answer.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (StatusRuntimeException) e.getCause();
        }
    }

    @Test
    void onlyALeasedSessionsCredentialResumesIt() throws Exception {
        var leased = sessions.open("worker", Duration.ofSeconds(30));
        var child = sessions.openUnleased("process p-1", "p-1");
        OpenSessionResponse resumed = open(OpenSessionRequest.newBuilder().setCredential(leased.credential()).build());
        assertEquals(leased.id(), resumed.getSessionId());
        assertEquals("", resumed.getCredential());
        assertEquals(30, resumed.getTtl().getSeconds());

        var unknown = assertThrows(StatusRuntimeException.class,
                () -> open(OpenSessionRequest.newBuilder().setCredential("fksc_not-a-session").build()));
        assertEquals(Status.Code.UNAUTHENTICATED, unknown.getStatus().getCode());
        assertEquals("SESSION_CREDENTIAL_INVALID", reason(unknown));
        var byId = assertThrows(StatusRuntimeException.class,
                () -> open(OpenSessionRequest.newBuilder().setCredential(leased.id()).build()));
        assertEquals(Status.Code.UNAUTHENTICATED, byId.getStatus().getCode(), "a public id resumes nothing");
        var unleased = assertThrows(StatusRuntimeException.class,
                () -> open(OpenSessionRequest.newBuilder().setCredential(child.credential()).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, unleased.getStatus().getCode());
        assertFalse(unleased.getStatus().getDescription().contains(child.credential()));
        assertEquals(2, sessions.count(), "a refused resume ends nothing");
    }
}
