package dev.forkd.server.session;

import java.util.Map;

/**
 * The one place that says which of a child's forkd variables carry a credential, and which.
 *
 * <p>A child gets its own run's session credential, and nothing of the server's: in
 * {@code FORKD_SESSION} (the {@code forkd-session} header: act as this session) and in
 * {@code FORKD_TOKEN} (sent as {@code authorization: Bearer} by clients that send a token, which a
 * TCP server needs). Both hold the same secret, and either one makes a call a child call, limited
 * to the child's rights. The admin token is never given to a child.
 */
public final class ChildCredentials {

    public static final String SESSION = "FORKD_SESSION";
    public static final String TOKEN = "FORKD_TOKEN";

    private ChildCredentials() {}

    /** The variables to set in a child's environment for its session credential. */
    public static Map<String, String> variables(String credential) {
        return Map.of(SESSION, credential, TOKEN, credential);
    }
}
