package dev.forkd.server.grpc;

import io.grpc.Context;
import io.grpc.Metadata.Key;

/** The headers forkd reads, and where the interceptors put them for the services. */
public final class Metadata {

    public static final Key<String> SESSION = Key.of("forkd-session", io.grpc.Metadata.ASCII_STRING_MARSHALLER);
    public static final Key<String> AGENT_TOKEN = Key.of("forkd-agent-token", io.grpc.Metadata.ASCII_STRING_MARSHALLER);
    public static final Key<String> AUTHORIZATION = Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER);

    /**
     * The public id of the session the call acts as (named by the credential in {@link #SESSION}, or a
     * child's own); absent without one. Never the credential: that stops at {@link SessionInterceptor}.
     */
    public static final Context.Key<String> SESSION_ID = Context.key("forkd-session");

    private Metadata() {}
}
