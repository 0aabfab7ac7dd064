package dev.forkd.server.pool;

/**
 * How one task ended.
 *
 * @param index the task's index (in its Map stream, or its apply id number)
 * @param attempts how many times it was run
 * @param processId the process of its last attempt; empty if it never ran
 * @param agentId the agent that ran its last attempt; empty if it never ran
 * @param startedAt when its last attempt started (when it ended, if it never ran)
 * @param runtime how long its last attempt ran
 */
public record TaskResult(long index, Outcome outcome, int attempts, String processId, int pid, String agentId,
        java.time.Instant startedAt, java.time.Duration runtime) {

    /** A result, or why there is none. */
    public sealed interface Outcome {
        /** stdout (per-task) or the response (persistent). */
        record Output(byte[] data) implements Outcome {}

        /** @param exitCode for EXIT: {@code >= 0} exit code, {@code -N} killed by signal N */
        record Failure(FailureKind kind, int exitCode, byte[] stderrTail, String message) implements Outcome {}
    }

    /** Why a task failed. */
    public enum FailureKind { EXIT, WORKER_DIED, TIMEOUT, START, TERMINATED, INITIALIZER }

    /** The bytes this result holds while it waits for its reader (charged to the memory budget). */
    public long heldBytes() {
        return switch (outcome) {
            case Outcome.Output o -> o.data().length;
            case Outcome.Failure f -> f.stderrTail().length + 2L * f.message().length();
        };
    }

    public boolean ok() {
        return outcome instanceof Outcome.Output;
    }
}
