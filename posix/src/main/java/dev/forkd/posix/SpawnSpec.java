package dev.forkd.posix;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What to start: an absolute, already resolved program path, its argv and whole environment ("K=V"),
 * an optional working directory, the fds that become the child's 0/1/2 (-1 for /dev/null), and
 * which session or process group the child lands in. {@code secretFd}, if not -1, becomes the child's
 * fd {@value #SECRET_TARGET_FD} (a pipe a secret is handed on, never the environment or argv); every
 * other fd from 3 up is closed in the child.
 */
public record SpawnSpec(String path, List<String> argv, List<String> env, Optional<String> cwd,
                        int stdinFd, int stdoutFd, int stderrFd, Grouping grouping, int secretFd) {

    /** The fd number a child finds its secret pipe on. */
    public static final int SECRET_TARGET_FD = 3;

    public enum Grouping { NEW_SESSION, NEW_PROCESS_GROUP, INHERIT }

    /** A child that inherits nothing but its stdio. */
    public SpawnSpec(String path, List<String> argv, List<String> env, Optional<String> cwd,
                     int stdinFd, int stdoutFd, int stderrFd, Grouping grouping) {
        this(path, argv, env, cwd, stdinFd, stdoutFd, stderrFd, grouping, -1);
    }

    public SpawnSpec {
        Objects.requireNonNull(path, "path");
        argv = List.copyOf(argv);
        env = List.copyOf(env);
        Objects.requireNonNull(cwd, "cwd");
        Objects.requireNonNull(grouping, "grouping");
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must hold at least argv[0]");
        }
    }
}
