package dev.forkd.server.grpc;

import dev.forkd.v1.AgentServiceGrpc;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Authentication: the agent stream needs the agent token the supervisor handed its agents; every
 * other call needs {@code authorization: Bearer <token>} when the server has a client token (always
 * on TCP). On the private Unix socket without a token, the socket's directory permissions guard it.
 */
public final class AuthInterceptor implements ServerInterceptor {

    private final String agentToken;
    private final Optional<String> clientToken;

    public AuthInterceptor(String agentToken, Optional<String> clientToken) {
        this.agentToken = agentToken;
        this.clientToken = clientToken;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, io.grpc.Metadata headers,
            ServerCallHandler<Q, R> next) {
        String service = call.getMethodDescriptor().getServiceName();
        if (AgentServiceGrpc.SERVICE_NAME.equals(service)) {
            if (!matches(headers.get(Metadata.AGENT_TOKEN), agentToken)) {
                call.close(Status.UNAUTHENTICATED.withDescription("agent token missing or wrong"),
                        new io.grpc.Metadata());
                return new ServerCall.Listener<>() {};
            }
            return next.startCall(call, headers);
        }
        if (clientToken.isPresent()) {
            String auth = headers.get(Metadata.AUTHORIZATION);
            String given = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).strip() : null;
            if (given == null) {
                call.close(Status.UNAUTHENTICATED.withDescription(
                        "this server needs a token: send \"authorization: Bearer <token>\""
                                + " (forkd --token-file or FORKD_TOKEN)"), new io.grpc.Metadata());
                return new ServerCall.Listener<>() {};
            }
            if (!matches(given, clientToken.get())) {
                call.close(Status.PERMISSION_DENIED.withDescription("the token is wrong"), new io.grpc.Metadata());
                return new ServerCall.Listener<>() {};
            }
        }
        return next.startCall(call, headers);
    }

    private static boolean matches(String given, String expected) {
        return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                expected.getBytes(StandardCharsets.UTF_8));
    }
}
