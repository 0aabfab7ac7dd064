package dev.forkd.server.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/** Puts the {@code forkd-session} header into the call's context. */
public final class SessionInterceptor implements ServerInterceptor {

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, io.grpc.Metadata headers,
            ServerCallHandler<Q, R> next) {
        String session = headers.get(Metadata.SESSION);
        if (session == null || session.isEmpty()) {
            return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(Metadata.SESSION_ID, session),
                call, headers, next);
    }
}
