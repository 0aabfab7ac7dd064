package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.SessionServiceGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A session whose stream breaks, against stand-in servers on real Unix sockets: the client dials
 * {@code s.sock}, a link the test moves from the first server to the next (as a restarted server
 * takes its predecessor's path), and the first server then drops the session stream as a dying one does.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionResumeTest {

    private static final Duration TTL = Duration.ofMillis(600);
    private static final String CREDENTIAL = "c-secret-1";

    @org.junit.jupiter.api.extension.RegisterExtension
    final StandInServers stands = new StandInServers("fks");

    @Test
    void theSessionResumesWithItsCredentialOnTheServerThatTakesOver() throws Exception {
        Stand next = new Stand(Answer.RESUME, 2);
        try (ForkdClient client = stands.connect(); ClientSession session = openThenRestart(client, next)) {
            session.whenConnected().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertTrue(next.renewals.await(30, TimeUnit.SECONDS), "renewals go to the next server");
            assertEquals(List.of(CREDENTIAL, CREDENTIAL, CREDENTIAL), next.credentials,
                    "twice refused while it started, then resumed, each time with the session's credential");
            assertTrue(session.connected());
            assertFalse(session.lost().toCompletableFuture().isDone(), "a resumed session is not lost");
            assertEquals("s-1", session.publicId());
        }
        assertTrue(next.ended.await(30, TimeUnit.SECONDS), "closing ends the resumed session's stream");
    }

    @Test
    void aSessionTheNextServerDoesNotKnowIsLost() throws Exception {
        Stand next = new Stand(Answer.UNKNOWN_CREDENTIAL, 0);
        try (ForkdClient client = stands.connect(); ClientSession session = openThenRestart(client, next)) {
            StatusRuntimeException why = session.lost().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(Status.Code.UNAUTHENTICATED, why.getStatus().getCode());
            assertFalse(session.connected());
            assertTrue(session.whenConnected().toCompletableFuture().isCompletedExceptionally());
            assertEquals(1, next.credentials.size(), "the server's no is final: no more attempts");
        }
    }

    @Test
    void aNewSessionFromAServerThatCannotResumeIsEndedAndTheOldOneLost() throws Exception {
        Stand next = new Stand(Answer.OPEN_NEW, 0);
        try (ForkdClient client = stands.connect(); ClientSession session = openThenRestart(client, next)) {
            StatusRuntimeException why = session.lost().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertTrue(why.getStatus().getDescription().contains("did not resume session s-1"), why.toString());
            assertTrue(next.ended.await(30, TimeUnit.SECONDS), "the session opened by mistake is ended at once");
        }
    }

    @Test
    void aServerThatStaysAwayPastTheLimitLosesTheSession() throws Exception {
        Stand first = new Stand(Answer.OPEN_NEW, 0);
        Server old = stands.serve(first, stands.dir().resolve("old.sock"));
        link("old.sock");
        try (ForkdClient client = stands.connect();
                ClientSession session = ClientSession.open(client.sessionsAsync(), "t", TTL, Duration.ofSeconds(30),
                        Duration.ofMillis(1500))) {
            Files.delete(stands.dir().resolve("s.sock")); // nothing to dial from now on
            old.shutdown();
            first.goAway();
            StatusRuntimeException why = session.lost().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(Status.Code.UNAVAILABLE, why.getStatus().getCode());
            assertTrue(why.getStatus().getDescription().contains("out of reach"), why.toString());
        }
    }

    /** Opens a session on a first server, then moves s.sock to {@code next} and drops the first. */
    private ClientSession openThenRestart(ForkdClient client, Stand next) throws Exception {
        Stand first = new Stand(Answer.OPEN_NEW, 0);
        Server old = stands.serve(first, stands.dir().resolve("old.sock"));
        link("old.sock");
        ClientSession session = ClientSession.open(client.sessionsAsync(), "t", TTL, Duration.ofSeconds(30));
        assertEquals("s-1", session.publicId());
        assertEquals(CREDENTIAL, session.credential());
        stands.serve(next, stands.dir().resolve("next.sock"));
        link("next.sock");
        old.shutdown(); // no new streams on its connection
        first.goAway();
        return session;
    }

    private void link(String target) throws Exception {
        Path tmp = stands.dir().resolve("link.tmp");
        Files.createSymbolicLink(tmp, stands.dir().resolve(target));
        Files.move(tmp, stands.dir().resolve("s.sock"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }



    private enum Answer { OPEN_NEW, RESUME, UNKNOWN_CREDENTIAL }

    /**
     * A session service that answers an opening as {@code answer} says (after refusing the first
     * {@code refusals} resumes with UNAVAILABLE, as a server still starting would), counts renewals,
     * and can drop its streams as a dying server does.
     */
    private static final class Stand extends SessionServiceGrpc.SessionServiceImplBase {
        final List<String> credentials = new CopyOnWriteArrayList<>();
        final CountDownLatch renewals = new CountDownLatch(3);
        final CountDownLatch ended = new CountDownLatch(1);
        private final Answer answer;
        private final AtomicInteger refusals;
        private final List<StreamObserver<OpenSessionResponse>> open = new CopyOnWriteArrayList<>();

        Stand(Answer answer, int refusals) {
            this.answer = answer;
            this.refusals = new AtomicInteger(refusals);
        }

        @Override
        public StreamObserver<OpenSessionRequest> open(StreamObserver<OpenSessionResponse> out) {
            open.add(out);
            return new StreamObserver<>() {
                private boolean first = true;

                @Override
                public void onNext(OpenSessionRequest r) {
                    if (!first) {
                        renewals.countDown();
                        return;
                    }
                    first = false;
                    if (!r.getCredential().isEmpty()) {
                        credentials.add(r.getCredential());
                        if (refusals.getAndDecrement() > 0) {
                            out.onError(Status.UNAVAILABLE.withDescription("starting").asRuntimeException());
                            return;
                        }
                    }
                    switch (answer) {
                        case OPEN_NEW -> out.onNext(OpenSessionResponse.newBuilder()
                                .setSessionId(r.getCredential().isEmpty() ? "s-1" : "s-2")
                                .setCredential(r.getCredential().isEmpty() ? CREDENTIAL : "c-other")
                                .setTtl(ProtoTime.of(TTL)).build());
                        case RESUME -> out.onNext(OpenSessionResponse.newBuilder().setSessionId("s-1")
                                .setTtl(ProtoTime.of(TTL)).build());
                        case UNKNOWN_CREDENTIAL -> out.onError(Status.UNAUTHENTICATED
                                .withDescription("credential: not the credential of an open session").asRuntimeException());
                    }
                }

                @Override
                public void onError(Throwable t) {
                    ended.countDown();
                }

                @Override
                public void onCompleted() {
                    ended.countDown();
                    out.onCompleted();
                }
            };
        }

        /** Fails every open stream UNAVAILABLE, as a connection to a dying server ends. */
        void goAway() {
            open.forEach(o -> {
                try {
                    o.onError(Status.UNAVAILABLE.withDescription("the server is going away").asRuntimeException());
                } catch (IllegalStateException alreadyClosed) {
                    // a stream this stand already ended
                }
            });
        }
    }
}
