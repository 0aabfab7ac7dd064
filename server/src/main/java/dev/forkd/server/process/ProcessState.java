package dev.forkd.server.process;

import java.time.Instant;

/**
 * Where a process is in its life. Transitions happen only in {@link ProcessRecord}:
 *
 * <pre>
 * Starting -> Running | FailedToStart | Lost
 * Running  -> Exited | Signaled | Lost
 * (ended)  -> Backoff (restart policy) -> Starting | Fatal
 * </pre>
 */
public sealed interface ProcessState {

    /** True while the OS process exists. */
    default boolean isAlive() {
        return this instanceof Running;
    }

    /** True once nothing more will happen to it (no restart pending). */
    default boolean isFinal() {
        return switch (this) {
            case Starting s -> false;
            case Running r -> false;
            case Backoff b -> false;
            case Exited e -> true;
            case Signaled s -> true;
            case FailedToStart f -> true;
            case Lost l -> true;
            case Fatal f -> true;
        };
    }

    /** Asked of an agent; not yet confirmed. */
    record Starting(String agentId) implements ProcessState {}

    /** The OS process exists. */
    record Running(String agentId, int pid, Instant startedAt) implements ProcessState {}

    /** Ended with an exit code. */
    record Exited(int pid, int exitCode, Instant endedAt) implements ProcessState {}

    /**
     * Ended by a signal; Python reports it as exit code {@code -signal}. {@code oomKilled}: the
     * signal was the OOM killer's, in the process's cgroup at its memory limit.
     */
    record Signaled(int pid, int signal, boolean oomKilled, Instant endedAt) implements ProcessState {
        /** By a signal that was not the OOM killer's. */
        public Signaled(int pid, int signal, Instant endedAt) {
            this(pid, signal, false, endedAt);
        }
    }

    /** Could not be started. */
    record FailedToStart(StartError error, Instant endedAt) implements ProcessState {}

    /** Its agent died while it ran; its group was killed. */
    record Lost(int pid, String cause, Instant endedAt) implements ProcessState {}

    /** Ended, and will be started again at {@code restartAt}. */
    record Backoff(ProcessState ended, Instant restartAt) implements ProcessState {}

    /** Restarted too often: given up. {@code ended} is how its last run ended. */
    record Fatal(ProcessState ended, String cause) implements ProcessState {}
}
