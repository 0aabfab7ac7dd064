package dev.forkd.server.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where forkd keeps its socket, token and logs by default: {@code $XDG_RUNTIME_DIR/forkd}, else
 * {@code $XDG_STATE_HOME/forkd}, else {@code ~/.local/state/forkd}. The directory is made 0700 by
 * the server.
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

    public Path socket() {
        return stateDir.resolve("forkd.sock");
    }

    public Path logFile() {
        return stateDir.resolve("forkd.log");
    }

    public ListenAddress defaultAddress() {
        return new ListenAddress.Unix(socket());
    }
}
