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
        /**
         * stdout (per-task) or the response (persistent).
         *
         * @param stderr a per-task command's stderr, kept beside its result (empty for persistent workers)
         */
        record Output(byte[] data, byte[] stderr) implements Outcome {
            public Output(byte[] data) {
                this(data, new byte[0]);
            }
        }

        /**
         * @param exitCode for EXIT: {@code >= 0} exit code, {@code -N} killed by signal N
         * @param stdout what a per-task command wrote on stdout before it failed
         * @param stderr all its stderr (the tail is its end), where a per-task command ran
         */
        record Failure(FailureKind kind, int exitCode, byte[] stderrTail, String message, byte[] stdout, byte[] stderr)
                implements Outcome {
            public Failure(FailureKind kind, int exitCode, byte[] stderrTail, String message) {
                this(kind, exitCode, stderrTail, message, new byte[0], new byte[0]);
            }
        }
    }

    /** Why a task failed. */
    public enum FailureKind { EXIT, WORKER_DIED, TIMEOUT, START, TERMINATED, INITIALIZER }

    /** The bytes this result holds while it waits for its reader (charged to the memory budget). */
    public long heldBytes() {
        return switch (outcome) {
            case Outcome.Output o -> (long) o.data().length + o.stderr().length;
            case Outcome.Failure f -> (long) f.stderrTail().length + 2L * f.message().length() + f.stdout().length
                    + f.stderr().length;
        };
    }

    public boolean ok() {
        return outcome instanceof Outcome.Output;
    }
}
