package dev.forkd.server.pool;

import dev.forkd.server.process.ProcessSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A pool as asked for, validated.
 *
 * @param worker the worker command; its {@link ProcessSpec} carries the merged environment, cwd
 *     and output limit every worker process gets (argv and labels are set per process)
 * @param initializer run once in each worker's environment before its first task; empty: none
 * @param maxRetries how often a task whose worker died or timed out is run again
 * @param retryFailed per-task only: also retry a command's own non-zero exit
 * @param ephemeral made by one Map stream and ended with it
 */
public record PoolSpec(
        Optional<String> name,
        int processes,
        Kind kind,
        Framing framing,
        boolean stdinItem,
        ProcessSpec worker,
        int maxTasksPerChild,
        List<String> initializer,
        Optional<Duration> taskTimeout,
        int maxRetries,
        boolean retryFailed,
        Map<String, String> labels,
        boolean ephemeral) {

    /** How workers are used (DESIGN.md §6). */
    public enum Kind { PER_TASK, PERSISTENT }

    /** How a persistent worker's requests and responses are delimited. */
    public enum Framing { LINE, LENGTH_PREFIXED }

    public PoolSpec {
        initializer = List.copyOf(initializer);
        labels = Map.copyOf(labels);
    }
}
