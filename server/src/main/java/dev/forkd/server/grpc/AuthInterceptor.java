package dev.forkd.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.forkd.agent.v1.AgentServiceGrpc;
import io.grpc.Grpc;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Authentication.
 *
 * <ul>
 *   <li>The gRPC health service answers everyone, so a load balancer or a Kubernetes gRPC probe
 *       needs no secret; it tells only whether the server is serving.
 *   <li>The agent stream needs the agent token the supervisor handed its agents.
 *   <li>A caller whose TLS connection carries a client certificate is an admin: with a client CA
 *       configured, the TLS layer has already verified it, and refuses connections without one.
 *   <li>Every other call, reflection included, needs {@code authorization: Bearer <token>} when the
 *       server has a client token (always on TCP without client certificates). On a Unix socket
 *       without a token, the socket's private directory guards it.
 * </ul>
 *
 * A missing or wrong credential is UNAUTHENTICATED with an ErrorInfo reason ({@code TOKEN_MISSING},
 * {@code TOKEN_INVALID}, {@code AGENT_TOKEN_INVALID}). Tokens are compared in constant time and never
 * logged or echoed.
 */
public final class AuthInterceptor implements ServerInterceptor {

    private static final String BEARER = "Bearer ";

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
        if (HealthGrpc.SERVICE_NAME.equals(service)) {
            return next.startCall(call, headers);
        }
        if (AgentServiceGrpc.SERVICE_NAME.equals(service)) {
            if (!matches(headers.get(Metadata.AGENT_TOKEN), agentToken)) {
                return refuse(call, "AGENT_TOKEN_INVALID", "agent token missing or wrong");
            }
            return next.startCall(call, headers);
        }
        if (clientToken.isEmpty() || hasClientCertificate(call)) {
            return next.startCall(call, headers);
        }
        String auth = headers.get(Metadata.AUTHORIZATION);
        if (auth == null || auth.isBlank()) {
            return refuse(call, "TOKEN_MISSING", "this server needs a token: send \"authorization: Bearer <token>\"");
        }
        if (!auth.startsWith(BEARER)) {
            return refuse(call, "TOKEN_INVALID", "the authorization header must be \"Bearer <token>\"");
        }
        if (!matches(auth.substring(BEARER.length()).strip(), clientToken.get())) {
            return refuse(call, "TOKEN_INVALID", "the token is wrong");
        }
        return next.startCall(call, headers);
    }

    /** True when the call came over TLS with a client certificate the TLS layer verified. */
    private static boolean hasClientCertificate(ServerCall<?, ?> call) {
        SSLSession tls = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (tls == null) {
            return false;
        }
        try {
            return tls.getPeerCertificates().length > 0;
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String reason, String message) {
        StatusRuntimeException e = StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(Code.UNAUTHENTICATED_VALUE)
                .setMessage(message)
                .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain(ErrorMapper.DOMAIN).setReason(reason).build()))
                .build());
        call.close(e.getStatus(), e.getTrailers());
        return new ServerCall.Listener<>() {};
    }

    /**
     * Constant-time: the digests compared have one length, so how long the comparison takes says
     * nothing about how much of a guess was right, nor about the token's length.
     */
    private static boolean matches(String given, String expected) {
        return given != null && MessageDigest.isEqual(sha256(given), sha256(expected));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
