package dev.forkd.server.grpc;

import dev.forkd.server.auth.Caller;
import dev.forkd.server.auth.Rights;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.server.session.SessionRegistry.Identity;
import dev.forkd.v1.CloseSessionRequest;
import dev.forkd.v1.CloseSessionResponse;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.SessionServiceGrpc;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * SessionService: a session lives as long as its Open stream, renewed by each message. Its
 * credential goes to the opener once, in the first response; Close needs it.
 */
public final class SessionServiceAdapter extends SessionServiceGrpc.SessionServiceImplBase {

    private final SessionRegistry sessions;

    public SessionServiceAdapter(SessionRegistry sessions) {
        this.sessions = sessions;
    }

    @Override
    public StreamObserver<OpenSessionRequest> open(StreamObserver<OpenSessionResponse> out) {
        // A child's new session stays the child's: its calls with it are still child calls.
        Optional<String> boundProcess = SessionInterceptor.caller() instanceof Caller.Child c
                ? Optional.of(c.processId()) : Optional.empty();
        return new StreamObserver<>() {
            private String id;

            @Override
            public synchronized void onNext(OpenSessionRequest r) {
                try {
                    if (id == null && !r.getCredential().isEmpty()) {
                        var resumed = resume(r.getCredential());
                        id = resumed.id();
                        out.onNext(OpenSessionResponse.newBuilder().setSessionId(resumed.id())
                                .setTtl(ProcessMessages.duration(resumed.ttl())).build());
                    } else if (id == null) {
                        Duration ttl = r.hasTtl() ? Protos.duration("ttl", r.getTtl()) : SessionRegistry.DEFAULT_TTL;
                        var opened = sessions.open(r.getName(), ttl, boundProcess);
                        id = opened.id();
                        out.onNext(OpenSessionResponse.newBuilder().setSessionId(opened.id())
                                .setCredential(opened.credential()).setTtl(ProcessMessages.duration(ttl)).build());
                    } else {
                        sessions.renew(id);
                    }
                } catch (RuntimeException e) {
                    if (id != null) {
                        sessions.end(id);
                    }
                    id = null;
                    out.onError(ErrorMapper.toStatus(e));
                }
            }

            @Override
            public synchronized void onError(Throwable t) {
                if (id != null) {
                    sessions.streamLost(id);
                }
            }

            @Override
            public synchronized void onCompleted() {
                if (id != null) {
                    sessions.end(id);
                }
                out.onCompleted();
            }
        };
    }

    /** Resumes a kept session, if the caller may act as it (checked before anything changes). */
    private SessionRegistry.Resumed resume(String credential) {
        Identity given = sessions.authenticate(credential).orElseThrow(() ->
                new ForkdException.Unauthenticated("SESSION_CREDENTIAL_INVALID", "credential: not the credential of"
                        + " an open session (it ended, or was not resumed within its TTL after a restart)"));
        Caller caller = SessionInterceptor.caller();
        if (!Rights.mayActAs(caller, given.boundProcess())) {
            throw new ForkdException.PermissionDenied("NOT_YOUR_SESSION", "process "
                    + ((Caller.Child) caller).processId() + " may resume only its own sessions, not session "
                    + given.id(), Map.of("session", given.id()));
        }
        return sessions.resume(credential);
    }

    @Override
    public void close(CloseSessionRequest request, StreamObserver<CloseSessionResponse> out) {
        Calls.unary(out, () -> {
            String id = session(request);
            if (!request.getSessionId().isEmpty() && !request.getSessionId().equals(id)) {
                // Not echoed: an old client may still put a credential in session_id.
                throw new ForkdException.PermissionDenied("NOT_YOUR_SESSION", "session_id is not the public id of"
                        + " the session the credential names (" + id + "); a public id closes nothing",
                        Map.of("session", id));
            }
            sessions.require(id);
            int n = sessions.end(id);
            return CloseSessionResponse.newBuilder().setTerminatedProcesses(n).build();
        });
    }

    /** The public id of the session to close: the request's credential's, else the header's. */
    private String session(CloseSessionRequest request) {
        if (request.getCredential().isEmpty()) {
            String header = Metadata.SESSION_ID.get();
            if (header == null) {
                throw new ForkdException.Unauthenticated("SESSION_CREDENTIAL_REQUIRED", "closing a session needs its"
                        + " credential, in `credential` or the forkd-session header; its public id is not enough");
            }
            return header; // the interceptor checked it, and the caller's right to act as it
        }
        Identity given = sessions.authenticate(request.getCredential()).orElseThrow(() ->
                new ForkdException.Unauthenticated("SESSION_CREDENTIAL_INVALID",
                        "credential: not the credential of an open session"));
        Caller caller = SessionInterceptor.caller();
        if (!Rights.mayActAs(caller, given.boundProcess())) {
            throw new ForkdException.PermissionDenied("NOT_YOUR_SESSION", "process "
                    + ((Caller.Child) caller).processId() + " may close only its own sessions, not session "
                    + given.id(), Map.of("session", given.id()));
        }
        return given.id();
    }
}
