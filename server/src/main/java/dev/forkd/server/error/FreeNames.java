package dev.forkd.server.error;

/**
 * The names of sync primitives and shared objects: free-form text (a client picks them, often from
 * paths or keys), required, at most {@link #MAX_LENGTH} characters, no control characters.
 */
public final class FreeNames {

    public static final int MAX_LENGTH = 200;

    private FreeNames() {}

    /** Throws INVALID_ARGUMENT naming the field "name" unless {@code name} is a valid name. */
    public static void check(String name) {
        if (name == null || name.isEmpty()) {
            throw new ForkdException.InvalidArgument("name", "is required");
        }
        if (name.length() > MAX_LENGTH) {
            throw new ForkdException.InvalidArgument("name", "must be at most " + MAX_LENGTH + " characters");
        }
        if (name.chars().anyMatch(Character::isISOControl)) {
            throw new ForkdException.InvalidArgument("name", "must not contain control characters");
        }
    }
}
