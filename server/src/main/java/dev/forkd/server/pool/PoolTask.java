package dev.forkd.server.pool;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** A task submitted to a {@link Pool}. Its fields are guarded by the pool's monitor. */
public final class PoolTask {
    final long index;
    final TaskInput input;
    final Consumer<TaskResult> onDone;
    final Runnable onSkipped;
    /** Set (under the pool's monitor, as its failure is recorded) by the first failed task of a halting group. */
    final Optional<AtomicBoolean> haltGroup;
    int attempts;
    boolean done;
    boolean timedOut;
    volatile boolean cancelled;
    String processId = "";
    int pid;
    String agentId = "";
    /** When its last attempt started (epoch); {@code null} before the first. */
    Instant startedAt;

    /** {@code onDone} is called once, outside the pool's monitor. */
    public PoolTask(long index, TaskInput input, Consumer<TaskResult> onDone) {
        this(index, input, onDone, () -> {}, Optional.empty());
    }

    /**
     * {@code onSkipped} is called instead of {@code onDone} (once, outside the monitor) if the task
     * is cancelled before it starts. Tasks sharing a {@code haltGroup} stop starting once one of
     * them fails: the flag is set in the same step that records the failure, so no task of the
     * group starts after it (a Map stream's halt_on_error).
     */
    public PoolTask(long index, TaskInput input, Consumer<TaskResult> onDone, Runnable onSkipped,
            Optional<AtomicBoolean> haltGroup) {
        this.index = index;
        this.input = input;
        this.onDone = onDone;
        this.onSkipped = onSkipped;
        this.haltGroup = haltGroup;
    }

    public TaskInput input() {
        return input;
    }

    /** Not to be started: its caller went away, or its group halted. */
    boolean skip() {
        return cancelled || haltGroup.map(AtomicBoolean::get).orElse(false);
    }

    /** Its caller went away: skip it if it has not started. */
    public void cancel() {
        cancelled = true;
    }
}
