package dev.forkd.server.grpc;

import dev.forkd.server.auth.Caller;
import dev.forkd.server.auth.Rights;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.server.session.SessionRegistry.Identity;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.util.Map;
import java.util.Optional;

/**
 * Decides who is calling and as which session, before any service sees the call, and puts both into
 * the call's context: the {@link Caller} under {@link #CALLER}, the acting session's <em>public</em>
 * id under {@link Metadata#SESSION_ID}. Credentials go no further than this class.
 *
 * <ul>
 *   <li>A call carrying a child's session credential (in {@code forkd-session}, or as the bearer
 *       token) is that child's call, whatever else it carries; it may act only as the child's own
 *       sessions (PERMISSION_DENIED, reason NOT_YOUR_SESSION, otherwise).
 *   <li>Any other call must pass the admin check ({@code adminAuth}: the admin token on TCP; on the
 *       Unix socket, being able to connect) and is then the admin's.
 *   <li>A {@code forkd-session} value that is no open session's credential — a public id, an ended
 *       session — is UNAUTHENTICATED, reason SESSION_CREDENTIAL_INVALID.
 * </ul>
 */
public final class SessionInterceptor implements ServerInterceptor {

    /** Who is calling; absent only for services this interceptor does not wrap. */
    public static final Context.Key<Caller> CALLER = Context.key("forkd-caller");

    private final SessionRegistry sessions;
    private final ServerInterceptor adminAuth;

    /** @param adminAuth the check a call that is not a child's must pass to be the admin's */
    public SessionInterceptor(SessionRegistry sessions, ServerInterceptor adminAuth) {
        this.sessions = sessions;
        this.adminAuth = adminAuth;
    }

    /** For a server without an admin check of its own (in-process tests). */
    public SessionInterceptor(SessionRegistry sessions) {
        this(sessions, new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, io.grpc.Metadata headers,
                    ServerCallHandler<Q, R> next) {
                return next.startCall(call, headers);
            }
        });
    }

    /**
     * The caller of the current call. Without this interceptor no credential is read, so every call
     * is the admin's (the services of a server are always wrapped; see ForkdServer).
     */
    public static Caller caller() {
        Caller c = CALLER.get();
        return c == null ? Caller.ADMIN : c;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, io.grpc.Metadata headers,
            ServerCallHandler<Q, R> next) {
        String header = headers.get(Metadata.SESSION);
        boolean sent = header != null && !header.isEmpty();
        Optional<Identity> acting = sent ? sessions.authenticate(header) : Optional.empty();
        if (sent) {
            if (acting.isEmpty()) {
                return refuse(call, new ForkdException.Unauthenticated("SESSION_CREDENTIAL_INVALID",
                        "the forkd-session header is not the credential of an open session: the session ended,"
                                + " or it is a session's public id, which acts as nothing (send the credential"
                                + " SessionService.Open gave, or a child's $FORKD_SESSION)"));
            }
        }
        Optional<Identity> child = bearer(headers).flatMap(sessions::authenticate)
                .filter(i -> i.boundProcess().isPresent())
                .or(() -> acting.isPresent() && acting.get().boundProcess().isPresent() ? acting : Optional.empty());
        if (child.isPresent()) {
            Caller.Child caller = new Caller.Child(child.get().id(), child.get().boundProcess().orElseThrow());
            Identity session = acting.orElse(child.get());
            if (!Rights.mayActAs(caller, session.boundProcess())) {
                return refuse(call, new ForkdException.PermissionDenied("NOT_YOUR_SESSION",
                        "process " + caller.processId() + " may act only as its own sessions, not as session "
                                + session.id(), Map.of("session", session.id(), "caller_process", caller.processId())));
            }
            Context ctx = Context.current().withValue(CALLER, caller).withValue(Metadata.SESSION_ID, session.id());
            return Contexts.interceptCall(ctx, call, headers, next);
        }
        Context ctx = Context.current().withValue(CALLER, Caller.ADMIN);
        if (acting.isPresent()) {
            ctx = ctx.withValue(Metadata.SESSION_ID, acting.get().id());
        }
        Context admin = ctx;
        return adminAuth.interceptCall(call, headers, (c, h) -> Contexts.interceptCall(admin, c, h, next));
    }

    private static Optional<String> bearer(io.grpc.Metadata headers) {
        String auth = headers.get(Metadata.AUTHORIZATION);
        return auth != null && auth.startsWith("Bearer ") ? Optional.of(auth.substring(7).strip()) : Optional.empty();
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, ForkdException e) {
        StatusRuntimeException s = ErrorMapper.toStatus(e);
        io.grpc.Metadata trailers = s.getTrailers();
        call.close(s.getStatus(), trailers == null ? new io.grpc.Metadata() : trailers);
        return new ServerCall.Listener<>() {};
    }
}
