package dev.forkd.server.error;

import java.util.Map;

/**
 * A domain error from a core: what went wrong in the user's words, and which kind of wrong it is.
 * Only the gRPC boundary turns these into status codes; cores know nothing of gRPC.
 */
public abstract sealed class ForkdException extends RuntimeException
        permits ForkdException.InvalidArgument,
                ForkdException.NotFound,
                ForkdException.AlreadyExists,
                ForkdException.FailedPrecondition,
                ForkdException.ResourceExhausted,
                ForkdException.Unavailable,
                ForkdException.Unauthenticated,
                ForkdException.PermissionDenied {

    private final String reason;
    private final Map<String, String> metadata;

    private ForkdException(String reason, String message, Map<String, String> metadata) {
        super(message, null, false, false);
        this.reason = reason;
        this.metadata = Map.copyOf(metadata);
    }

    /** The name of a forkd.v1.ErrorReason value, the one list clients branch on (google.rpc.ErrorInfo). */
    public String reason() {
        return reason;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * A request field breaks a rule. The reason is always FIELD_INVALID: the field's path goes in
     * google.rpc.BadRequest, never into the reason, so the reasons stay one closed list.
     */
    public static final class InvalidArgument extends ForkdException {
        /** The one reason of every invalid field. */
        public static final String REASON = "FIELD_INVALID";
        private final String field;

        public InvalidArgument(String field, String rule) {
            super(REASON, field + ": " + rule, Map.of("field", field));
            this.field = field;
        }

        public String field() {
            return field;
        }

        public String rule() {
            return getMessage().substring(field.length() + 2);
        }
    }

    /** No resource of that kind with that id or name. */
    public static final class NotFound extends ForkdException {
        public NotFound(String kind, String id) {
            super(kind.toUpperCase().replace(' ', '_') + "_NOT_FOUND",
                    kind + " \"" + id + "\" not found", Map.of("kind", kind, "id", id));
        }

        /** For a missing thing that is not a resource, e.g. a program not on PATH. */
        public NotFound(String reason, String message, Map<String, String> metadata) {
            super(reason, message, metadata);
        }
    }

    /** The name is taken. */
    public static final class AlreadyExists extends ForkdException {
        public AlreadyExists(String kind, String name) {
            super(kind.toUpperCase().replace(' ', '_') + "_ALREADY_EXISTS",
                    kind + " name \"" + name + "\" is already taken", Map.of("kind", kind, "name", name));
        }
    }

    /** The resource is in a state that does not allow this. */
    public static final class FailedPrecondition extends ForkdException {
        public FailedPrecondition(String reason, String message) {
            super(reason, message, Map.of());
        }

        public FailedPrecondition(String reason, String message, Map<String, String> metadata) {
            super(reason, message, metadata);
        }
    }

    /** A configured limit is reached. */
    public static final class ResourceExhausted extends ForkdException {
        public ResourceExhausted(String reason, String message) {
            super(reason, message, Map.of());
        }

        public ResourceExhausted(String reason, String message, Map<String, String> metadata) {
            super(reason, message, metadata);
        }
    }

    /** Nothing can serve it right now (no agent, agent lost mid-call); retrying may work. */
    public static final class Unavailable extends ForkdException {
        public Unavailable(String reason, String message) {
            super(reason, message, Map.of());
        }

        /**
         * The state store did not keep {@code what} (its write failed, or timed out): nothing was
         * acknowledged, and a retry may work. {@code error} may be the CompletionException around the cause.
         */
        public static Unavailable storeDidNotKeep(String what, Throwable error) {
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            return new Unavailable("STATE_STORE_UNAVAILABLE", "the state store did not keep " + what + ": "
                    + cause.getMessage());
        }
    }

    /** The caller's credential is missing or names nobody; the message never repeats the credential. */
    public static final class Unauthenticated extends ForkdException {
        public Unauthenticated(String reason, String message) {
            super(reason, message, Map.of());
        }
    }

    /** The caller is known but may not do this (another session's process, lock or session). */
    public static final class PermissionDenied extends ForkdException {
        public PermissionDenied(String reason, String message, Map<String, String> metadata) {
            super(reason, message, metadata);
        }
    }
}
