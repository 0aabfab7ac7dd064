package dev.forkd.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What to start: the program and its arguments, and how. The child's environment is {@link #env}
 * plus forkd's own variables (never the server's, nor this JVM's); {@code argv[0]} is looked up in the
 * child's PATH.
 *
 * @param argv program and arguments; at least one
 * @param env variables for the child
 * @param cwd its working directory; empty: the agent's
 * @param name a unique name to find it by; empty: none
 * @param stdinPipe whether {@link ForkdProcess#stdin()} may write to it (else its stdin is empty)
 * @param daemon terminated when this client's session ends, as Python's daemon children are
 */
public record ProcessSpec(List<String> argv, Map<String, String> env, Optional<String> cwd, Optional<String> name,
        boolean stdinPipe, boolean daemon) {

    public ProcessSpec {
        argv = List.copyOf(argv);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("a process needs a program: argv is empty");
        }
        env = Map.copyOf(env);
    }

    /** {@code argv} with no extra environment, the agent's directory, no name, no stdin. */
    public static ProcessSpec of(String... argv) {
        return new ProcessSpec(List.of(argv), Map.of(), Optional.empty(), Optional.empty(), false, false);
    }

    public ProcessSpec withEnv(String name, String value) {
        Map<String, String> more = new LinkedHashMap<>(env);
        more.put(name, value);
        return new ProcessSpec(argv, more, cwd, this.name, stdinPipe, daemon);
    }

    public ProcessSpec withCwd(String dir) {
        return new ProcessSpec(argv, env, Optional.of(dir), name, stdinPipe, daemon);
    }

    public ProcessSpec named(String name) {
        return new ProcessSpec(argv, env, cwd, Optional.of(name), stdinPipe, daemon);
    }

    /** Its stdin is a pipe {@link ForkdProcess#stdin()} writes to. */
    public ProcessSpec withStdin() {
        return new ProcessSpec(argv, env, cwd, name, true, daemon);
    }

    /** Ends with this client's session. */
    public ProcessSpec asDaemon() {
        return new ProcessSpec(argv, env, cwd, name, stdinPipe, true);
    }
}
