package dev.forkd.server.pool;

import java.time.Duration;

/**
 * How many requests a persistent worker is given ahead of its answers: enough that a worker of short
 * tasks never waits for its next request ({@link #COVER} of work queued), and no more, so that long
 * tasks are not committed to a worker while another one idles (as multiprocessing's chunksize=1
 * hands tasks out one at a time).
 *
 * <p>It learns the tasks' duration from the answers: a worker's service time is from when its task
 * became the one it works on (written to an idle worker, or its previous answer) to its answer. It
 * starts over (one request a worker) when the pool has nothing left to do: the next work's tasks may
 * be of another kind. A worker whose current task has run longer than the estimate is given nothing
 * more until it answers: that task is longer than the others, and what would queue behind it can go
 * to another worker.
 *
 * <p>Guarded by the pool's monitor, as {@link PersistentWorkers}.
 */
final class DispatchWindow {

    /** The most requests one worker is given ahead of its answers. */
    static final int MAX = 64;
    /** The work a worker has queued: a little more than an answer takes to bring it its next request. */
    static final Duration COVER = Duration.ofMillis(5);
    /** Until an answer says how long tasks take. */
    static final int START = 1;

    /** The mean service time of the last answers (an exponential average); negative: none yet. */
    private long estimateNanos = -1;

    /** A worker answered a task it worked on for {@code service}. */
    void answered(Duration service) {
        long s = Math.max(1, service.toNanos());
        estimateNanos = estimateNanos < 0 ? s : (3 * estimateNanos + s) / 4;
    }

    /** Nothing is left to do: the next tasks start from {@link #START}. */
    void idle() {
        estimateNanos = -1;
    }

    /**
     * How many requests a worker may have unanswered.
     *
     * @param headRunning how long the task the worker works on has run; {@code null} when it has none
     */
    int window(Duration headRunning) {
        if (estimateNanos < 0) {
            return START;
        }
        if (headRunning != null && Math.max(1, headRunning.toNanos()) >= estimateNanos) {
            return 1;
        }
        long w = (COVER.toNanos() + estimateNanos - 1) / estimateNanos;
        return (int) Math.max(1, Math.min(MAX, w));
    }
}
