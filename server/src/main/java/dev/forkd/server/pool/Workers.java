package dev.forkd.server.pool;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.pool.TaskResult.Outcome;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * How a pool runs its tasks (DESIGN.md §6): a process per task, or long-running workers fed over
 * stdin. Every method but {@link #start} is called holding the pool's monitor.
 */
sealed interface Workers permits PerTaskWorkers, PersistentWorkers {

    /**
     * Starts the workers; {@code onReady} hears once: empty when every worker (and its initializer)
     * is up, or why one could not start (then the pool is terminated).
     */
    void start(Consumer<Optional<ForkdException>> onReady);

    /** Hands queued tasks to free workers. */
    void dispatch();

    /** The pool was terminated: fails the running tasks with {@code why}; adds the processes to kill. */
    void terminate(Outcome why, List<String> toKill);

    /** The pool is closing with no task left: lets idle workers go; answers whether none runs any more. */
    boolean windDown();

    /** Adds the ids of the processes running now (workers, or per-task commands). */
    void addLive(List<String> processIds);

    /** Worker processes started over the pool's life. */
    long started();
}
