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

    /**
     * The exit code once the process has ended (as {@link #exitCode()}), empty while it has not, or
     * when it never ran: a client must tell "exited with 0" from "no exit code yet".
     */
    public java.util.OptionalInt endedExitCode() {
        return endedExitCodeOf(state);
    }

    private static java.util.OptionalInt endedExitCodeOf(ProcessState state) {
        return switch (state) {
            case ProcessState.Exited e -> java.util.OptionalInt.of(e.exitCode());
            case ProcessState.Signaled s -> java.util.OptionalInt.of(-s.signal());
            case ProcessState.Lost l -> java.util.OptionalInt.of(-9);
            case ProcessState.Backoff b -> endedExitCodeOf(b.ended());
            case ProcessState.Fatal f -> endedExitCodeOf(f.ended());
            default -> java.util.OptionalInt.empty();
        };
    }

    /** Whether its last run was ended by the OOM killer at its cgroup's memory limit. */
    public boolean oomKilled() {
        return oomKilledIn(state);
    }

    private static boolean oomKilledIn(ProcessState state) {
        return switch (state) {
            case ProcessState.Signaled s -> s.oomKilled();
            case ProcessState.Backoff b -> oomKilledIn(b.ended());
            case ProcessState.Fatal f -> oomKilledIn(f.ended());
            default -> false;
        };
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
