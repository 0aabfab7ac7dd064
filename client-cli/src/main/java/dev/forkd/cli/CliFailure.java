package dev.forkd.cli;

/**
 * A command failed in a way it can say in one line; the message is printed after {@code forkd: }
 * and the process exits with {@code exitCode}.
 */
public final class CliFailure extends RuntimeException {

    private final int exitCode;

    public CliFailure(String message, int exitCode) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public CliFailure(String message, int exitCode, Throwable cause) {
        super(message, cause, false, false);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
