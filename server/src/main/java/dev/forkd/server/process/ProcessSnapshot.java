package dev.forkd.server.process;

import java.time.Instant;
import java.util.Optional;

/** A consistent copy of one process's record, for answering clients. */
public record ProcessSnapshot(
        String id,
        ProcessSpec spec,
        ProcessState state,
        int run,
        int restartCount,
        Instant createdAt,
        Optional<Instant> startedAt,
        Optional<Instant> endedAt,
        Optional<String> agentId,
        int pid,
        long outputStart,
        long outputEnd,
        long version) {

    /** Python's exit code: {@code >= 0} exit status, {@code -N} killed by signal N; 0 while running. */
    public int exitCode() {
        return exitCodeOf(state);
    }

    static int exitCodeOf(ProcessState state) {
        return switch (state) {
            case ProcessState.Exited e -> e.exitCode();
            case ProcessState.Signaled s -> -s.signal();
            case ProcessState.Backoff b -> exitCodeOf(b.ended());
            case ProcessState.Fatal f -> exitCodeOf(f.ended());
            case ProcessState.Lost l -> -9;
            default -> 0;
        };
    }
}
