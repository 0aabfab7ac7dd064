package dev.forkd.agent.os;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What to start: an absolute, already resolved program path, its argv and whole environment ("K=V"),
 * an optional working directory, the fds that become the child's 0/1/2 (-1 for /dev/null), and
 * which session or process group the child lands in.
 */
public record SpawnSpec(String path, List<String> argv, List<String> env, Optional<String> cwd,
                        int stdinFd, int stdoutFd, int stderrFd, Grouping grouping) {

    public enum Grouping { NEW_SESSION, NEW_PROCESS_GROUP, INHERIT }

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
