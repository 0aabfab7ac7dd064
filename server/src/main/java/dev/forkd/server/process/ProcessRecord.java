package dev.forkd.server.process;

import dev.forkd.server.memory.MemoryBudget;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

/**
 * One process's mutable record. Every field is guarded by the record's monitor; the
 * {@link ProcessTable} changes it, and every state change goes through {@link #transition}.
 * Listeners are called by the table outside the monitor.
 */
final class ProcessRecord {

    final String id;
    final long seq;
    final ProcessSpec spec;
    final Instant createdAt;
    final OutputLog output;

    ProcessState state;
    int run;
    int restartCount;
    final List<Instant> restartTimes = new ArrayList<>();
    boolean stopRequested;
    AgentPort agent;
    int pid;
    Instant startedAt;
    Instant endedAt;
    long version;

    /** Answer to the Spawn call, until the first run starts or fails. */
    Consumer<SpawnOutcome> spawnWaiter;
    /** Joiners, called once when the state becomes final. */
    final List<Runnable> joiners = new ArrayList<>();
    /** Watchers, called on every change of state; they pull what they need. */
    final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();
    /**
     * Watchers called when output arrives, on the thread that reported it, holding no lock: most are
     * in {@link #listeners} too, one that reads output at once has a callback of its own here.
     */
    final CopyOnWriteArrayList<Runnable> outputListeners = new CopyOnWriteArrayList<>();
    /** Stdin writes in flight, answered in order by the agent. */
    final ArrayDeque<Consumer<StdinAck>> stdinAcks = new ArrayDeque<>();
    boolean stdinClosed;
    /** Lossless watchers and how far each has read; while one lags too far, output is held. */
    final java.util.Map<Object, Long> holders = new java.util.IdentityHashMap<>();
    boolean outputHeld;
    /** The holder a spawn with hold_output puts at offset 0 until a holding watcher attaches. */
    final Object spawnHold = new Object();
    /** The public id of the current run's session, ended when it ends. */
    String childSession;
    /** Who spawned it; set before the record is published, never changed. */
    dev.forkd.server.auth.Lineage lineage;

    /** Where it is kept across restarts; written on every state change. */
    ProcessRecords kept = ProcessRecords.NONE;
    /** Who hears of its state changes (the event stream, the metrics). */
    dev.forkd.server.events.ServerEvents events = dev.forkd.server.events.ServerEvents.NONE;
    /** When the current run was asked of an agent: a start's latency counts from here. */
    Instant startingSince;

    /** A {@code forkd restart} on its way, until its new run has started; null if none. */
    ProcessRestart.Pending pendingRestart;
    /** The log offset where the current run's output begins: an agent counts its offsets from here. */
    long runOutputStart;
    /** When each captured chunk arrived, for {@code logs --since}. */
    final OutputTimes outputTimes = new OutputTimes();

    ScheduledFuture<?> killTimer;
    ScheduledFuture<?> timeoutTimer;
    ScheduledFuture<?> restartTimer;

    ProcessRecord(String id, long seq, ProcessSpec spec, Instant createdAt, MemoryBudget memory) {
        this.id = id;
        this.seq = seq;
        this.spec = spec;
        this.createdAt = createdAt;
        this.output = new OutputLog(spec.outputLimit(), OutputLog.HOLD_SLACK, memory);
    }

    /** How a Spawn call is answered. */
    sealed interface SpawnOutcome {
        record Started(ProcessSnapshot process) implements SpawnOutcome {}

        record Failed(StartError error) implements SpawnOutcome {}

        record Lost(String cause) implements SpawnOutcome {}

        /** The run was refused before it reached an agent (a limit): the spawn fails with it. */
        record Refused(dev.forkd.server.error.ForkdException error) implements SpawnOutcome {}
    }

    /** The agent's answer to one stdin write. */
    record StdinAck(long bytes, boolean closed, Optional<String> error) {}

    /** The one place a state changes; collects who must hear of it. Call with the monitor held. */
    List<Runnable> transition(ProcessState next, Instant now) {
        ProcessState before = state;
        state = next;
        version++;
        if (before instanceof ProcessState.Running && !(next instanceof ProcessState.Running)) {
            endRunTimers(); // they belong to the run that ended, not to a run started after it
        }
        switch (next) {
            case ProcessState.Running r -> {
                startedAt = r.startedAt();
                endedAt = null;
                pid = r.pid();
            }
            case ProcessState.Starting s -> {
                endedAt = null;
                if (run > 0 || startingSince == null) {
                    startingSince = now; // a first run counts from its spawn, a restart from now
                }
            }
            case ProcessState.Backoff b -> { }
            // Given up: its last run ended now, so its runtime stops here (Backoff's end is set by the caller).
            case ProcessState.Fatal f -> endedAt = now;
            default -> endedAt = now;
        }
        ProcessEvents.of(this, before, next, now).ifPresent(events::happened);
        kept.save(this);
        List<Runnable> toRun = new ArrayList<>(listeners);
        if (pendingRestart != null) {
            toRun.addAll(pendingRestart.settle(this, next));
        }
        if (next.isFinal()) {
            toRun.addAll(joiners);
            joiners.clear();
            cancelTimers();
        }
        return toRun;
    }

    /** Cancels the ended run's SIGKILL escalation and timeout (a back-off's timer stays). */
    private void endRunTimers() {
        for (ScheduledFuture<?> f : new ScheduledFuture<?>[] {killTimer, timeoutTimer}) {
            if (f != null) {
                f.cancel(false);
            }
        }
        killTimer = null;
        timeoutTimer = null;
    }

    void cancelTimers() {
        endRunTimers();
        if (restartTimer != null) {
            restartTimer.cancel(false);
        }
        restartTimer = null;
    }

    ProcessSnapshot snapshot() {
        return new ProcessSnapshot(id, spec, state, run, restartCount, createdAt,
                Optional.ofNullable(startedAt), Optional.ofNullable(endedAt),
                Optional.ofNullable(agent).map(AgentPort::agentId), pid,
                output.start(), output.end(), version);
    }

    boolean isRunOf(int r) {
        return run == r;
    }
}
