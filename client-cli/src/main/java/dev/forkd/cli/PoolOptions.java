package dev.forkd.cli;

import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** How a pool's workers run: shared by {@code forkd pool create} and {@code forkd map}. */
public final class PoolOptions {

    @Option(names = {"-j", "--jobs"}, paramLabel = "N",
            description = "Workers, i.e. tasks at once (default: the server's CPU count).")
    Integer jobs;

    @Option(names = "--persistent", description = {"CMD is a long-running worker: one item per line on its stdin,",
        "one result per line on its stdout, in order (no fork per item)."})
    boolean persistent;

    @Option(names = "--stdin-item", description = "Per-task: write the item to the command's stdin instead of substituting {}.")
    boolean stdinItem;

    @Option(names = "--retries", paramLabel = "N",
            description = "Run a failed task again up to N more times (a non-zero exit, a dead worker or a timeout).")
    int retries;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Kill a task running longer than this (e.g. 30s); it fails or is retried.")
    Duration timeout;

    @Option(names = "--max-tasks-per-child", paramLabel = "N",
            description = "Replace a worker after N tasks (default 0: never).")
    int maxTasksPerChild;

    @Option(names = "--initializer", paramLabel = "SHELL-CMD",
            description = "Run this (with sh -c) once in each worker's environment before its first task.")
    String initializer;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Label the pool (repeatable).")
    Map<String, String> labels = Map.of();

    /** True if any option that shapes a new pool was given (they make no sense with an existing one). */
    boolean anyGiven() {
        return jobs != null || persistent || stdinItem || retries != 0 || timeout != null || maxTasksPerChild != 0
                || initializer != null || !labels.isEmpty();
    }

    /**
     * A create request for {@code command}. A per-task command with no placeholder gets the item as
     * its last argument, as GNU parallel does.
     */
    CreatePoolRequest.Builder create(List<String> command) {
        List<String> argv = new ArrayList<>(command);
        if (!persistent && !stdinItem && argv.stream().noneMatch(PoolOptions::hasPlaceholder)) {
            argv.add("{}");
        }
        WorkerSpec.Builder worker = WorkerSpec.newBuilder()
                .setKind(persistent ? WorkerKind.WORKER_KIND_PERSISTENT : WorkerKind.WORKER_KIND_PER_TASK)
                .addAllArgv(argv)
                .setStdinItem(stdinItem);
        CreatePoolRequest.Builder b = CreatePoolRequest.newBuilder()
                .setWorker(worker)
                .setMaxRetries(retries)
                .setRetryFailed(retries > 0 && !persistent)
                .setMaxTasksPerChild(maxTasksPerChild)
                .putAllLabels(labels);
        if (jobs != null) {
            b.setProcesses(jobs);
        }
        if (timeout != null) {
            b.setTaskTimeout(ResourceCommand.proto(timeout));
        }
        if (initializer != null) {
            b.addAllInitializer(List.of("sh", "-c", initializer));
        }
        return b;
    }

    /** {@code {}} or {@code {N}} somewhere in the argument (the server's rule: {@code {#}} alone is not the item). */
    static boolean hasPlaceholder(String arg) {
        int i = 0;
        while ((i = arg.indexOf('{', i)) >= 0) {
            int end = arg.indexOf('}', i);
            if (end < 0) {
                return false;
            }
            String inner = arg.substring(i + 1, end);
            if (inner.isEmpty() || inner.chars().allMatch(Character::isDigit)) {
                return true;
            }
            i++;
        }
        return false;
    }
}
