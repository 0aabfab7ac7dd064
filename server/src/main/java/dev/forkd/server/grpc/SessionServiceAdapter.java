package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.v1.CloseSessionRequest;
import dev.forkd.v1.CloseSessionResponse;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.SessionServiceGrpc;
import io.grpc.stub.StreamObserver;
import java.time.Duration;

/** SessionService: a session lives as long as its Open stream, renewed by each message. */
public final class SessionServiceAdapter extends SessionServiceGrpc.SessionServiceImplBase {

    private final SessionRegistry sessions;

    public SessionServiceAdapter(SessionRegistry sessions) {
        this.sessions = sessions;
    }

    @Override
    public StreamObserver<OpenSessionRequest> open(StreamObserver<OpenSessionResponse> out) {
        return new StreamObserver<>() {
            private String id;

            @Override
            public synchronized void onNext(OpenSessionRequest r) {
                try {
                    if (id == null) {
                        Duration ttl = r.hasTtl() ? Protos.duration("ttl", r.getTtl()) : SessionRegistry.DEFAULT_TTL;
                        id = sessions.open(r.getName(), ttl);
                        out.onNext(OpenSessionResponse.newBuilder().setSessionId(id)
                                .setTtl(ProcessMessages.duration(ttl)).build());
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
                    sessions.end(id);
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

    @Override
    public void close(CloseSessionRequest request, StreamObserver<CloseSessionResponse> out) {
        Calls.unary(out, () -> {
            if (request.getSessionId().isEmpty()) {
                throw new InvalidArgument("session_id", "is required");
            }
            sessions.require(request.getSessionId());
            int n = sessions.end(request.getSessionId());
            return CloseSessionResponse.newBuilder().setTerminatedProcesses(n).build();
        });
    }
}
