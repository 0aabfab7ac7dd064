package dev.forkd.client;

/**
 * A pool task that failed: its command exited non-zero, its worker died on every attempt, it timed
 * out, could not start, or the pool was terminated first.
 */
public final class TaskFailedException extends RuntimeException {

    /** Why a task failed, as the server tells it. */
    public enum Kind { EXIT, WORKER_DIED, TIMEOUT, START, TERMINATED, INITIALIZER, OTHER }

    private final long index;
    private final Kind kind;
    private final int exitCode;
    private final byte[] stderrTail;

    public TaskFailedException(long index, Kind kind, int exitCode, byte[] stderrTail, String message) {
        super("task " + index + " failed (" + kind + "): " + message);
        this.index = index;
        this.kind = kind;
        this.exitCode = exitCode;
        this.stderrTail = stderrTail.clone();
    }

    public long index() {
        return index;
    }

    public Kind kind() {
        return kind;
    }

    /** EXIT: the exit code; WORKER_DIED of a per-task command: -N for signal N; else 0. */
    public int exitCode() {
        return exitCode;
    }

    /** The last bytes of its stderr. */
    public byte[] stderrTail() {
        return stderrTail.clone();
    }
}
