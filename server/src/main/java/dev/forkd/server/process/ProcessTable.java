package dev.forkd.server.process;

import dev.forkd.server.auth.Lineage;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.memory.MemoryBudget;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The supervisor's processes: spawn, join, signal, output and restarts, driven by client calls and
 * by agent events. Plain Java: the gRPC adapters call it, agents report into it through the
 * {@code on*} methods.
 *
 * <p>The table finds a record and hands the call to the part that does that job, each one class:
 * {@link ProcessIndex} (the records, and admission), {@link ProcessRuns} (spawn, the start and end of
 * each run, restarts: the one path a run's end takes), {@link AgentReports} (what agents report),
 * {@link ProcessStops} (signals, escalation, timeouts), {@link ProcessOutput} (the output log,
 * watchers and holders), {@link ProcessStdin}, {@link ProcessJoins} and {@link ProcessRestore} (the
 * records a previous supervisor kept). Each record's fields are guarded by its monitor; a part that
 * changes one does so with the monitor held and returns who to notify, and they are called after it
 * is released ({@link #runEach}). Every state change is {@link ProcessRecord#transition}, which writes
 * the kept record and the event in order.
 */
public final class ProcessTable {

    private static final Logger LOG = Logger.getLogger(ProcessTable.class.getName());

    /** Kills a whole process group on this host; used when its agent is gone. */
    public interface GroupKiller {
        void killGroup(int pgid);
    }

    private final MemoryBudget memory;
    private final ProcessIndex index;
    private final ProcessStops stops;
    private final ProcessOutput output;
    private final ProcessStdin stdin;
    private final ProcessJoins joins;
    private final ProcessRuns runs;
    private final AgentReports reports;
    private final ProcessRestore restore;

    public ProcessTable(AgentPool agents, GroupKiller groupKiller, ChildSessions childSessions,
            ScheduledExecutorService timers, Clock clock, DoubleSupplier random, int maxProcesses) {
        this(agents, groupKiller, childSessions, timers, clock, random, maxProcesses, MemoryBudget.unlimited());
    }

    /** A table whose output logs and stdin in flight are charged to the server's {@code memory} budget. */
    public ProcessTable(AgentPool agents, GroupKiller groupKiller, ChildSessions childSessions,
            ScheduledExecutorService timers, Clock clock, DoubleSupplier random, int maxProcesses,
            MemoryBudget memory) {
        this(agents, groupKiller, childSessions, timers, clock, random, maxProcesses, memory, ServerEvents.NONE);
    }

    /** A table that tells {@code events} of every start, end, restart and FATAL, and of output captured. */
    public ProcessTable(AgentPool agents, GroupKiller groupKiller, ChildSessions childSessions,
            ScheduledExecutorService timers, Clock clock, DoubleSupplier random, int maxProcesses,
            MemoryBudget memory, ServerEvents events) {
        this(agents, groupKiller, childSessions, timers, clock, random, maxProcesses, memory, events,
                ProcessRecords.NONE);
    }

    /** A table whose records are kept in {@code kept}, and restored from it by {@link #restore()}. */
    public ProcessTable(AgentPool agents, GroupKiller groupKiller, ChildSessions childSessions,
            ScheduledExecutorService timers, Clock clock, DoubleSupplier random, int maxProcesses,
            MemoryBudget memory, ServerEvents events, ProcessRecords kept) {
        this.memory = memory;
        this.index = new ProcessIndex(maxProcesses, memory);
        this.stops = new ProcessStops(timers, clock);
        this.output = new ProcessOutput(kept, events, timers, clock, index::holds);
        this.stdin = new ProcessStdin(timers);
        this.joins = new ProcessJoins(timers);
        this.runs = new ProcessRuns(agents, childSessions, timers, clock, random, events, kept, index, output,
                stdin, stops);
        this.reports = new AgentReports(index, runs, stops, output, stdin, groupKiller, clock);
        this.restore = new ProcessRestore(index, runs, stops, kept, clock, memory, events);
    }

    // ---- client calls -------------------------------------------------------------------------

    /**
     * Starts a process; {@code onStarted} gets it once its first run has really started. If it
     * cannot start, the record is removed (nothing is left behind) and {@code onError} says why.
     */
    public void spawn(ProcessSpec spec, Consumer<ProcessSnapshot> onStarted,
            Consumer<ForkdException> onError) {
        spawn(spec, Optional.empty(), onStarted, onError);
    }

    /**
     * Like {@link #spawn(ProcessSpec, Consumer, Consumer)}, for a process spawned by the child
     * process {@code parent} (empty: by the admin): it becomes that child's descendant.
     */
    public void spawn(ProcessSpec spec, Optional<String> parent, Consumer<ProcessSnapshot> onStarted,
            Consumer<ForkdException> onError) {
        runs.spawn(spec, parent, onStarted, onError);
    }

    /** The server's memory budget, which stdin on its way to a child is charged to as well. */
    public MemoryBudget memory() {
        return memory;
    }

    /** Who spawned a process (its id is the resolved one), for the rights of its caller. */
    public Lineage lineageOf(String idOrName) {
        return index.find(idOrName).lineage;
    }

    public ProcessSnapshot get(String idOrName) {
        ProcessRecord rec = index.find(idOrName);
        synchronized (rec) {
            return rec.snapshot();
        }
    }

    /** Processes matching {@code filter}, oldest first, starting after sequence {@code afterSeq}. */
    public List<ProcessSnapshot> list(Predicate<ProcessSnapshot> filter, long afterSeq, int limit) {
        return index.list(filter, afterSeq, limit);
    }

    /** The sequence number of a process, for page tokens. */
    public long seqOf(String id) {
        return index.seqOf(id);
    }

    /** A pending join; cancel it when the caller goes away. */
    public interface Cancellable {
        void cancel();
    }

    /**
     * Calls {@code onDone(process, timedOut)} once: when the process reaches a final state, or
     * when {@code timeout} passes first (then with the process as it is).
     */
    public Cancellable join(String idOrName, Optional<Duration> timeout,
            BiConsumer<ProcessSnapshot, Boolean> onDone) {
        return joins.join(index.find(idOrName), timeout, onDone);
    }

    /** How to signal. */
    public sealed interface SignalAction {
        /** SIGTERM to the group, SIGKILL after {@code grace}; stops restarts. */
        record Terminate(Optional<Duration> grace) implements SignalAction {}

        /** SIGKILL to the group; stops restarts. */
        record Kill() implements SignalAction {}

        /** {@code signal} to the group, SIGKILL after {@code grace}; stops restarts (a program's stop signal). */
        record Stop(int signal, Duration grace) implements SignalAction {}

        /** Any signal to the group; restarts still apply if it ends. */
        record Send(int signal) implements SignalAction {}
    }

    public ProcessSnapshot signal(String idOrName, SignalAction action) {
        ProcessRecord rec = index.find(idOrName);
        List<Runnable> notify;
        ProcessSnapshot snap;
        synchronized (rec) {
            notify = stops.signal(rec, action);
            snap = rec.snapshot();
        }
        runEach(notify);
        return snap;
    }

    /**
     * {@code forkd restart} (see {@link ProcessRestart}): {@code onRestarted} gets the process once its
     * new run has started, or its start ended; {@code onError} if a stop cancelled it. Refusals throw.
     */
    public void restart(String idOrName, Optional<Duration> grace, Consumer<ProcessSnapshot> onRestarted,
            Consumer<ForkdException> onError) {
        ProcessRecord rec = index.find(idOrName);
        List<Runnable> notify;
        synchronized (rec) {
            notify = runs.requestRestart(rec, grace.orElse(rec.spec.stopGrace()), outcome -> {
                switch (outcome) {
                    case ProcessRestart.Outcome.Restarted r -> onRestarted.accept(r.process());
                    case ProcessRestart.Outcome.Cancelled c -> onError.accept(c.error());
                }
            });
        }
        runEach(notify);
    }

    /** The offset of the first output byte {@code idOrName} captured at or after {@code since}. */
    public long outputOffsetSince(String idOrName, Instant since) {
        ProcessRecord rec = index.find(idOrName);
        synchronized (rec) {
            return output.offsetSince(rec, since);
        }
    }

    /** Forgets an ended process and its output. */
    public void delete(String idOrName) {
        ProcessRecord rec = index.find(idOrName);
        List<Runnable> notify;
        synchronized (rec) {
            if (!rec.state.isFinal()) {
                throw new ForkdException.FailedPrecondition("PROCESS_NOT_ENDED",
                        "process \"" + rec.id + "\" has not ended (" + stateName(rec.state)
                                + "); terminate it first", Map.of("id", rec.id));
            }
            notify = new ArrayList<>(rec.listeners);
            rec.listeners.clear();
            rec.outputListeners.clear();
        }
        runs.forget(rec);
        runEach(notify);
    }

    /** A live view of one process for a watcher. */
    public interface WatchHandle {
        ProcessSnapshot snapshot();

        OutputLog.Read read(long offset, int maxBytes);

        /** A holding watcher has read up to {@code offset}; output may resume. */
        void readUpTo(long offset);

        /** False once the process was deleted. */
        boolean exists();

        void close();
    }

    /** Registers {@code onChange}, called (on any thread) after every output or state change. */
    public WatchHandle watch(String idOrName, Runnable onChange) {
        return watch(idOrName, onChange, false, 0);
    }

    /**
     * Registers {@code onChange}, called (on any thread) after every state change, and
     * {@code onOutput}, called after output arrives on the thread that reported it, which holds no
     * lock: there it may answer at once, without a hand-off to another thread.
     */
    public WatchHandle watch(String idOrName, Runnable onChange, Runnable onOutput) {
        return output.watch(index.find(idOrName), onChange, onOutput, false, 0);
    }

    /**
     * Like {@link #watch(String, Runnable)}; with {@code hold}, the child's output is held while
     * this watcher is more than half the output cap behind, so it loses nothing.
     */
    public WatchHandle watch(String idOrName, Runnable onChange, boolean hold, long fromOffset) {
        return output.watch(index.find(idOrName), onChange, onChange, hold, fromOffset);
    }

    /** The agent's answer to a stdin write. */
    public record StdinResult(long bytes, boolean closed, Optional<String> error) {}

    /** Writes to a running child's stdin; {@code onDone} gets the agent's answer. */
    public void writeStdin(String idOrName, byte[] data, boolean close, Consumer<StdinResult> onDone) {
        ProcessRecord rec = index.find(idOrName);
        synchronized (rec) {
            stdin.write(rec, data, close, onDone);
        }
    }

    /** Terminates the daemon processes a session spawned; returns how many. */
    public int terminateDaemonsOf(String sessionId) {
        // From the index, not a pass over all records: every child's session ends when it exits.
        int n = 0;
        for (ProcessRecord rec : index.daemonsOf(sessionId)) {
            List<Runnable> notify;
            synchronized (rec) {
                if (rec.state.isFinal()) {
                    continue;
                }
                notify = concat(ProcessRestart.cancel(rec, "stopped as its session ended"),
                        stops.stop(rec, ProcessStops.SIGTERM, rec.spec.stopGrace()));
                n++;
            }
            runEach(notify);
        }
        return n;
    }

    /** Counts of records by state name, for status. */
    public Map<String, Integer> countByState() {
        return index.countByState();
    }

    // ---- agent events (see AgentReports) ------------------------------------------------------

    public void onStarted(String processId, int run, int pid) {
        reports.started(processId, run, pid);
    }

    /** @return whether it applied (false for a run that is not starting: a repeat, or stale) */
    public boolean onStartFailed(String processId, int run, StartError error) {
        return reports.startFailed(processId, run, error);
    }

    public void onOutput(String processId, int run, OutputLog.Stream stream, ByteBuffer data) {
        onOutput(processId, run, stream, data, -1);
    }

    /**
     * Output of a run whose agent had sent {@code runOffset} bytes of it before this chunk (negative:
     * unknown); a log that holds fewer says the difference was lost (a crash of the last supervisor).
     */
    public void onOutput(String processId, int run, OutputLog.Stream stream, ByteBuffer data, long runOffset) {
        reports.output(processId, run, stream, data, runOffset);
    }

    /**
     * @return whether it applied (false for a run that is not running: an exit an agent sent again
     *     after a restart, applied already, or a stale one)
     */
    public boolean onExited(String processId, int run, int exitCode) {
        return onExited(processId, run, 0, exitCode, false);
    }

    /**
     * As {@link #onExited(String, int, int)}, from the child of pid {@code pid} (0: not said): an
     * exit of another child than the run's (one that held the same id and run under an earlier
     * supervisor, sent again) does not apply. {@code oomKilled}: its cgroup's OOM killer ended it.
     */
    public boolean onExited(String processId, int run, int pid, int exitCode, boolean oomKilled) {
        return reports.exited(processId, run, pid, exitCode, oomKilled);
    }

    public void onStdinWritten(String processId, int run, long bytes, boolean closed,
            Optional<String> error) {
        reports.stdinWritten(processId, run, bytes, closed, error);
    }

    /**
     * An agent died or disconnected: its processes are lost, and their process groups are killed
     * so nothing runs on unseen.
     */
    public void onAgentLost(String agentId, String cause) {
        reports.agentLost(agentId, cause);
    }

    // ---- restarts of the supervisor -----------------------------------------------------------

    /** The records a previous supervisor kept: load them, and reconcile them with returning agents. */
    public ProcessRestore restore() {
        return restore;
    }

    // ---- shared by the parts ------------------------------------------------------------------

    /** The lower-case state name users see ("running", "exited", ...). */
    public static String stateName(ProcessState state) {
        return switch (state) {
            case ProcessState.Starting s -> "starting";
            case ProcessState.Running r -> "running";
            case ProcessState.Exited e -> "exited";
            case ProcessState.Signaled s -> "signaled";
            case ProcessState.FailedToStart f -> "failed-to-start";
            case ProcessState.Lost l -> "lost";
            case ProcessState.Backoff b -> "backoff";
            case ProcessState.Fatal f -> "fatal";
        };
    }

    /**
     * Runs callbacks into callers (joiners, watchers, spawn answers) each on its own: one that
     * throws (its caller is gone) must not keep the others from being told, nor reach the agent
     * stream that reported the event.
     */
    static void runEach(List<Runnable> callbacks) {
        for (Runnable r : callbacks) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a process callback failed", e);
            }
        }
    }

    static List<Runnable> concat(List<Runnable> a, List<Runnable> b) {
        if (a.isEmpty()) {
            return b;
        }
        List<Runnable> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
