package dev.forkd.client;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where a client looks for the server by default: {@code $XDG_RUNTIME_DIR/forkd}, else
 * {@code $XDG_STATE_HOME/forkd}, else {@code ~/.local/state/forkd}; the same rule the server follows
 * when it chooses where to listen.
 */
public record ForkdPaths(Path stateDir) {

    public static ForkdPaths fromEnvironment(Map<String, String> env) {
        String runtime = env.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank()) {
            return new ForkdPaths(Path.of(runtime, "forkd"));
        }
        String state = env.get("XDG_STATE_HOME");
        if (state != null && !state.isBlank()) {
            return new ForkdPaths(Path.of(state, "forkd"));
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        return new ForkdPaths(Path.of(home, ".local", "state", "forkd"));
    }

    /** The default socket. */
    public Path socket() {
        return stateDir.resolve("forkd.sock");
    }

    /** Where a server started on demand writes its log. */
    public Path logFile() {
        return stateDir.resolve("forkd.log");
    }

    public ListenAddress defaultAddress() {
        return new ListenAddress.Unix(socket());
    }
}
