package dev.forkd.server.auth;

/**
 * Who is calling, as far as rights go (README "What a child can and cannot do"). Decided once per
 * call, from its credentials, before any service sees it.
 */
public sealed interface Caller {

    /**
     * The admin: the owner of the Unix socket (a call there without a child's credential), the holder
     * of the admin token, or an admin client certificate. May do everything.
     */
    record Admin() implements Caller {}

    /**
     * A process forkd started, calling with its own credential (or with a session it opened with
     * it): the shared data plane, and only its own descendants.
     *
     * @param sessionId the public id of the session the credential names
     * @param processId the process the credential was given to
     */
    record Child(String sessionId, String processId) implements Caller {}

    Caller ADMIN = new Admin();
}
