package dev.forkd.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where a client looks for the server by default: the one directory of this Unix user, whatever the
 * caller's environment, so a login shell, a cron job, a systemd unit and {@code su} all find the same
 * server. It is the rule the server follows when it chooses where to listen
 * ({@code dev.forkd.server.config.ForkdPaths}, which says why): {@code $XDG_RUNTIME_DIR/forkd} when
 * {@code XDG_RUNTIME_DIR} is set to a directory that is not a login session's ({@code /run/user/N}),
 * otherwise {@code /tmp/forkd-<uid>}. The library keeps its own copy so that it does not depend on
 * the server; {@code ForkdPathsTest} holds the two to the same answers.
 */
public record ForkdPaths(Path stateDir) {

    /** Login sessions' runtime directories (systemd-logind): never forkd's. */
    static final Path LOGIN_RUNTIME_DIRS = Path.of("/run/user");

    public static ForkdPaths fromEnvironment(Map<String, String> env) {
        return fromEnvironment(env, currentUid());
    }

    static ForkdPaths fromEnvironment(Map<String, String> env, int uid) {
        String runtime = env.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank() && !Path.of(runtime).normalize().startsWith(LOGIN_RUNTIME_DIRS)) {
            return new ForkdPaths(Path.of(runtime, "forkd"));
        }
        return new ForkdPaths(Path.of("/tmp", "forkd-" + uid));
    }

    /** The real uid of this process: the owner of {@code /proc/self}. */
    static int currentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tell this process's uid from /proc/self", e);
        }
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
