package dev.forkd.server.grpc;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.forkd.server.auth.Caller;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.v1.CloseSessionRequest;
import dev.forkd.v1.SessionServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Who a call is, from its credentials: the admin unless it carries a child's credential; a public
 * id or an ended session's credential acts as nothing; a child acts only as its own sessions.
 */
@Timeout(30)
class SessionInterceptorTest {

    private static final String ADMIN_TOKEN = "the-admin-token-0123456789";

    private ScheduledExecutorService timers;
    private SessionRegistry sessions;
    private Server server;
    private ManagedChannel channel;
    /** What the service saw: the caller and the acting session's public id. */
    private final AtomicReference<Caller> seenCaller = new AtomicReference<>();
    private final AtomicReference<Optional<String>> seenSession = new AtomicReference<>();

    @BeforeEach
    void start() throws Exception {
        timers = Executors.newSingleThreadScheduledExecutor();
        sessions = new SessionRegistry(timers, 100);
        // Stands in for the token check: the admin needs the admin token.
        ServerInterceptor adminToken = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, io.grpc.Metadata h,
                    ServerCallHandler<Q, R> next) {
                if (!("Bearer " + ADMIN_TOKEN).equals(h.get(Metadata.AUTHORIZATION))) {
                    call.close(Status.UNAUTHENTICATED.withDescription("no admin token"), new io.grpc.Metadata());
                    return new ServerCall.Listener<>() {};
                }
                return next.startCall(call, h);
            }
        };
        ServerInterceptor capture = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, io.grpc.Metadata h,
                    ServerCallHandler<Q, R> next) {
                seenCaller.set(SessionInterceptor.caller());
                seenSession.set(Optional.ofNullable(Metadata.SESSION_ID.get()));
                return next.startCall(call, h);
            }
        };
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(ServerInterceptors.intercept(new SessionServiceAdapter(sessions), capture,
                        new SessionInterceptor(sessions, adminToken)))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        timers.shutdownNow();
    }

    /** Makes a call with these headers (null: left out); the close itself may fail, that is not the point. */
    private StatusRuntimeException call(String session, String bearer) {
        io.grpc.Metadata h = new io.grpc.Metadata();
        if (session != null) {
            h.put(Metadata.SESSION, session);
        }
        if (bearer != null) {
            h.put(Metadata.AUTHORIZATION, "Bearer " + bearer);
        }
        seenCaller.set(null);
        try {
            SessionServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h))
                    .close(CloseSessionRequest.newBuilder().setSessionId("s-nothing").build());
            return null;
        } catch (StatusRuntimeException e) {
            return e;
        }
    }

    @Test
    void theAdminTokenMakesTheAdminAndASessionCredentialNamesTheActingSession() {
        call(null, ADMIN_TOKEN);
        assertEquals(Caller.ADMIN, seenCaller.get());
        assertEquals(Optional.empty(), seenSession.get());
        var admins = sessions.open("admin's", SessionRegistry.DEFAULT_TTL);
        call(admins.credential(), ADMIN_TOKEN);
        assertEquals(Caller.ADMIN, seenCaller.get());
        assertEquals(Optional.of(admins.id()), seenSession.get());
    }

    @Test
    void aChildsCredentialMakesAChildCallWhereverItIsAndWithoutTheAdminToken() {
        var run = sessions.openUnleased("process p-7", "p-7");
        Caller child = new Caller.Child(run.id(), "p-7");
        for (String[] headers : new String[][] {{run.credential(), null}, {null, run.credential()},
                {run.credential(), run.credential()}, {run.credential(), ADMIN_TOKEN}}) {
            call(headers[0], headers[1]);
            assertEquals(child, seenCaller.get(), String.join(",", java.util.Arrays.asList(headers)));
            assertEquals(Optional.of(run.id()), seenSession.get());
        }
        var opened = sessions.open("the child's own", SessionRegistry.DEFAULT_TTL, Optional.of("p-7"));
        call(opened.credential(), null);
        assertEquals(new Caller.Child(opened.id(), "p-7"), seenCaller.get());
        call(opened.credential(), run.credential());
        assertEquals(Optional.of(opened.id()), seenSession.get());
    }

    @Test
    void aChildMayNotActAsAnotherSession() {
        var run = sessions.openUnleased("process p-7", "p-7");
        var other = sessions.openUnleased("process p-8", "p-8");
        var admins = sessions.open("admin's", SessionRegistry.DEFAULT_TTL);
        for (String foreign : new String[] {other.credential(), admins.credential()}) {
            var e = call(foreign, run.credential());
            assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
            assertEquals("NOT_YOUR_SESSION", reason(e));
            assertEquals(null, seenCaller.get(), "a refused call reaches no service");
        }
    }

    @Test
    void aPublicIdOrAnEndedCredentialActsAsNothing() {
        var admins = sessions.open("admin's", SessionRegistry.DEFAULT_TTL);
        var run = sessions.openUnleased("process p-7", "p-7");
        sessions.end(run.id());
        for (String wrong : new String[] {admins.id(), run.credential(), "fksc_" + "A".repeat(43)}) {
            var e = call(wrong, ADMIN_TOKEN);
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
            assertEquals("SESSION_CREDENTIAL_INVALID", reason(e));
            assertEquals(null, seenCaller.get());
        }
    }

    @Test
    void anAdminSessionsCredentialIsNoTokenAndNothingElseIsTheAdminWithoutOne() {
        var admins = sessions.open("admin's", SessionRegistry.DEFAULT_TTL);
        for (String[] headers : new String[][] {{null, null}, {null, admins.credential()}, {admins.credential(), null},
                {null, admins.id()}}) {
            var e = call(headers[0], headers[1]);
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), String.join(",", java.util.Arrays.asList(headers)));
            assertEquals(null, seenCaller.get());
        }
    }
}
