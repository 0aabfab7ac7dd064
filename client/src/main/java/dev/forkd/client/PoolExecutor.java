package dev.forkd.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A pool as an executor of its command, with {@link java.util.concurrent.ExecutorService}'s life cycle:
 * tasks are the command's inputs (a {@code Runnable} cannot run in another process), futures complete
 * with its output. {@code shutdown} lets submitted tasks finish; {@code shutdownNow} kills them.
 */
public final class PoolExecutor {

    private final ForkdPool pool;
    private volatile boolean shutdown;

    PoolExecutor(ForkdPool pool) {
        this.pool = pool;
    }

    /** Runs the command on {@code item}. */
    public CompletableFuture<byte[]> submit(byte[] item) {
        if (shutdown) {
            throw new java.util.concurrent.RejectedExecutionException("the pool executor is shut down");
        }
        return pool.applyAsync(item);
    }

    /** Runs the command on every item; the futures in input order. */
    public List<CompletableFuture<byte[]>> invokeAll(Collection<byte[]> items) {
        List<CompletableFuture<byte[]>> futures = new ArrayList<>(items.size());
        items.forEach(i -> futures.add(submit(i)));
        return futures;
    }

    public void shutdown() {
        shutdown = true;
        pool.closeInput();
    }

    /** Kills running tasks; answers the tasks never started (always empty: the server keeps none for us). */
    public List<byte[]> shutdownNow() {
        shutdown = true;
        pool.terminate();
        return List.of();
    }

    public boolean isShutdown() {
        return shutdown;
    }

    /** True once shut down and every task has ended. */
    public boolean isTerminated() {
        if (!shutdown) {
            return false;
        }
        try {
            return pool.join(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return pool.join(Duration.of(Math.max(0, timeout), unit.toChronoUnit()));
    }
}
