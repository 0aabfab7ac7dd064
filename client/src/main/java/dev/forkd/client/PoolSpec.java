package dev.forkd.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A pool's workers and limits.
 *
 * @param persistent true: one long-running worker program per process, one request line in, one
 *     response line out; false: one process per task, {@code {}} in an argument is the item
 * @param argv the command (per-task: a template)
 * @param processes workers (tasks at once); empty: the server's CPU count
 * @param name an optional unique name
 * @param env the workers' environment
 * @param maxRetries how often a task whose worker died or timed out is run again
 * @param taskTimeout a task running longer is killed and retried; empty: no limit
 */
public record PoolSpec(boolean persistent, List<String> argv, Optional<Integer> processes, Optional<String> name,
        Map<String, String> env, int maxRetries, Optional<Duration> taskTimeout) {

    public PoolSpec {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("a pool needs a worker command: argv is empty");
        }
    }

    /** One process per task; {@code {}} in an argument is the item, {@code {1}}, {@code {2}} starmap's arguments. */
    public static PoolSpec perTask(String... argv) {
        return new PoolSpec(false, List.of(argv), Optional.empty(), Optional.empty(), Map.of(), 0, Optional.empty());
    }

    /** One long-running worker program per process, one request line in, one response line out. */
    public static PoolSpec persistent(String... argv) {
        return new PoolSpec(true, List.of(argv), Optional.empty(), Optional.empty(), Map.of(), 0, Optional.empty());
    }

    public PoolSpec withProcesses(int n) {
        return new PoolSpec(persistent, argv, Optional.of(n), name, env, maxRetries, taskTimeout);
    }

    public PoolSpec named(String name) {
        return new PoolSpec(persistent, argv, processes, Optional.of(name), env, maxRetries, taskTimeout);
    }

    public PoolSpec withEnv(Map<String, String> env) {
        return new PoolSpec(persistent, argv, processes, name, env, maxRetries, taskTimeout);
    }

    public PoolSpec withMaxRetries(int n) {
        return new PoolSpec(persistent, argv, processes, name, env, n, taskTimeout);
    }

    public PoolSpec withTaskTimeout(Duration timeout) {
        return new PoolSpec(persistent, argv, processes, name, env, maxRetries, Optional.of(timeout));
    }
}
