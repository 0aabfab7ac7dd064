package dev.forkd.address;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where forkd keeps its socket and log by default: one directory per Unix user, the same whatever
 * the caller's environment, so a login shell, a cron job, a systemd unit and {@code su} all find
 * the one server of that user.
 *
 * <p>The rule: {@code $XDG_RUNTIME_DIR/forkd} when {@code XDG_RUNTIME_DIR} is set to a directory that
 * is not a login session's ({@code /run/user/N}): someone chose it on purpose (a test, a container,
 * a second private server). Otherwise {@code /tmp/forkd-<uid>}, as tmux does. A login session's
 * {@code /run/user/<uid>} is not used: a cron job has no {@code XDG_RUNTIME_DIR}, the directory
 * exists only while the user is logged in (logind deletes it, socket included, at the last logout),
 * and {@code su}/{@code sudo} pass on the other user's. The server makes the directory 0700 and
 * refuses one that belongs to someone else, so a directory another user made in {@code /tmp} stops
 * forkd with a clear message instead of exposing the socket.
 *
 * <p>The server listens where this says and clients (the CLI, the Java library) look there: it is one
 * class in a module of its own so that neither side depends on the other.
 */
public record ForkdPaths(Path stateDir) {

    /** Login sessions' runtime directories (systemd-logind): never forkd's, see the class comment. */
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

    /** Where a server started in the background (or on demand by a client) writes its log. */
    public Path logFile() {
        return stateDir.resolve("forkd.log");
    }

    /** The default socket as an address to listen on or dial. */
    public ListenAddress defaultAddress() {
        return new ListenAddress.Unix(socket());
    }
}
