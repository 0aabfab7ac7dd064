package dev.forkd.posix;

/** A child that could not be started, with the errno the kernel or glibc reported. */
public final class SpawnException extends Exception {

    public enum Kind { NOT_FOUND, NOT_EXECUTABLE, BAD_CWD, RESOURCES, OTHER }

    private final int errno;
    private final Kind kind;

    public SpawnException(Kind kind, int errno, String message) {
        super(message);
        this.kind = kind;
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    public Kind kind() {
        return kind;
    }
}
