package dev.forkd.server.programs;

/** A config file that cannot be applied: where (line, 1-based; 0 if unknown) and why. */
public final class ConfigError extends Exception {

    private final int line;
    private final String reason;

    public ConfigError(int line, String reason) {
        super((line > 0 ? "line " + line + ": " : "") + reason, null, false, false);
        this.line = line;
        this.reason = reason;
    }

    public int line() {
        return line;
    }

    public String reason() {
        return reason;
    }
}
