package dev.forkd.server.process;

import dev.forkd.server.auth.Lineage;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.process.ProcessRecord.SpawnOutcome;
import dev.forkd.server.process.ProcessRecord.StdinAck;
import dev.forkd.server.time.Timeout;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 */
public final class ProcessTable {

    private static final Logger LOG = Logger.getLogger(ProcessTable.class.getName());
    static final int SIGKILL = 9;
    static final int SIGTERM = 15;

    /** Kills a whole process group on this host; used when its agent is gone. */
    public interface GroupKiller {
        void killGroup(int pgid);
    }

    /**
     * Each run of a child gets its own session, ended when the run ends (DESIGN.md §5); its
     * credential reaches the child only through the environment variables the session names.
     */
    public interface ChildSessions {
        /** Opens the session of one run of a process. */
        ChildSession open(String processId);

        void end(String sessionId);

        /** Whether a client's session is open; a daemon may only be spawned into an open one. */
        default boolean isOpen(String sessionId) {
            return true;
        }

        ChildSessions NONE = new ChildSessions() {
            @Override
            public ChildSession open(String processId) {
                return new ChildSession("", Map.of());
            }

            @Override
            public void end(String sessionId) {}
        };
    }

    /**
     * One run's session: its public id (empty: none), and the variables that carry its credential
     * into the child's environment (the credential is nowhere else in the table).
     */
    public record ChildSession(String id, Map<String, String> env) {
        public ChildSession {
            env = Map.copyOf(env);
        }

        @Override
        public String toString() {
            return "ChildSession[id=" + id + ", env=" + env.keySet() + "]"; // keys only: values are secret
        }
    }

    private final AgentPool agents;
    private final GroupKiller groupKiller;
    private final ChildSessions childSessions;
    private final ScheduledExecutorService timers;
    private final Clock clock;
    private final DoubleSupplier random;
    private final int maxProcesses;
    private final MemoryBudget memory;
    private final ServerEvents events;
    private final Map<String, ProcessRecord> records = new ConcurrentHashMap<>();
    /** Daemon records by the session that spawned them, so a session's end finds its daemons at once. */
    private final Map<String, Set<ProcessRecord>> daemonsBySession = new ConcurrentHashMap<>();
    private final Map<String, String> names = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();
    /** Records in the table, counted apart from the map so that admission is one atomic step. */
    private final AtomicInteger recordCount = new AtomicInteger();
    private final ProcessRecords kept;
    private final ProcessRestore restore;
    private final ProcessRestart restarts;

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
        this.kept = kept;
        this.restore = new ProcessRestore(this, kept, clock, memory, events);
        this.restarts = new ProcessRestart((rec, grace) -> stop(rec, SIGTERM, grace), this::restart, timers, clock);
        this.events = events;
        this.memory = memory;
        this.agents = agents;
        this.groupKiller = groupKiller;
        this.childSessions = childSessions;
        this.timers = timers;
        this.clock = clock;
        this.random = random;
        this.maxProcesses = maxProcesses;
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
        // The check and the count are one step, so concurrent spawns cannot overshoot the limit.
        if (recordCount.getAndUpdate(c -> c < maxProcesses ? c + 1 : c) >= maxProcesses) {
            onError.accept(new ForkdException.ResourceExhausted("PROCESS_TABLE_FULL",
                    "the process table holds " + maxProcesses + " records (max " + maxProcesses
                            + "); delete ended processes"));
            return;
        }
        if (memory.available() < MIN_OUTPUT_BYTES) {
            onError.accept(memory.exhausted(MIN_OUTPUT_BYTES, "the output of a new process"));
            return;
        }
        long n = seq.incrementAndGet();
        String id = "p-" + n;
        if (spec.name().isPresent() && names.putIfAbsent(spec.name().get(), id) != null) {
            recordCount.decrementAndGet();
            onError.accept(new ForkdException.AlreadyExists("process", spec.name().get()));
            return;
        }
        ProcessRecord rec = new ProcessRecord(id, n, spec, clock.instant(), memory);
        rec.events = events;
        rec.kept = kept;
        rec.startingSince = rec.createdAt;
        rec.lineage = new Lineage(id, parent.map(p -> {
            ProcessRecord up = records.get(p);
            return up == null ? Lineage.root(p) : up.lineage;
        }));
        rec.state = new ProcessState.Starting("");
        rec.spawnWaiter = outcome -> {
            switch (outcome) {
                // Answered once its record is committed: after a crash the next supervisor knows
                // this id (and never gives it to another process).
                case SpawnOutcome.Started s -> kept.afterCommitted(() -> onStarted.accept(s.process()), timers);
                case SpawnOutcome.Failed f -> {
                    forget(rec);
                    onError.accept(f.error().toException(spec.argv().get(0)));
                }
                case SpawnOutcome.Lost l -> {
                    forget(rec);
                    onError.accept(new ForkdException.Unavailable("NO_AGENT", l.cause()));
                }
                case SpawnOutcome.Refused r -> {
                    forget(rec);
                    onError.accept(r.error());
                }
            }
        };
        records.put(id, rec);
        Optional<String> daemonSession = daemonOf(rec);
        daemonSession.ifPresent(sid -> daemonsBySession.computeIfAbsent(sid, k -> ConcurrentHashMap.newKeySet()).add(rec));
        // Checked once the record is visible: a session ending from here on terminates it as a daemon
        // of that session; one that ended before is refused, so no daemon outlives its session.
        if (daemonSession.isPresent() && !childSessions.isOpen(daemonSession.get())) {
            forget(rec);
            onError.accept(new ForkdException.NotFound("session", daemonSession.get()));
            return;
        }
        if (spec.holdUntilWatched()) {
            synchronized (rec) {
                rec.holders.put(rec.spawnHold, 0L);
            }
            timers.schedule(() -> releaseSpawnHold(rec), SPAWN_HOLD_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        }
        startRun(rec, 0);
    }

    /**
     * The budget a spawn needs free: with less, a new process's output would be dropped as soon as
     * it is written, so the spawn is refused instead (its log still shrinks if the budget fills later).
     */
    static final long MIN_OUTPUT_BYTES = 64 * 1024;

    /** The server's memory budget, which stdin on its way to a child is charged to as well. */
    public MemoryBudget memory() {
        return memory;
    }

    /** A spawn's hold lasts until a holding watcher attaches, or this long if none does. */
    static final Duration SPAWN_HOLD_LIMIT = Duration.ofSeconds(30);

    private static void releaseSpawnHold(ProcessRecord rec) {
        synchronized (rec) {
            dropSpawnHold(rec);
        }
    }

    /** Ends a spawn's hold, if it still stands. Call with the monitor held. */
    private static void dropSpawnHold(ProcessRecord rec) {
        if (rec.holders.remove(rec.spawnHold) != null) {
            maybeResume(rec);
        }
    }

    /** Who spawned a process (its id is the resolved one), for the rights of its caller. */
    public Lineage lineageOf(String idOrName) {
        return find(idOrName).lineage;
    }

    public ProcessSnapshot get(String idOrName) {
        ProcessRecord rec = find(idOrName);
        synchronized (rec) {
            return rec.snapshot();
        }
    }

    /** Processes matching {@code filter}, oldest first, starting after sequence {@code afterSeq}. */
    public List<ProcessSnapshot> list(Predicate<ProcessSnapshot> filter, long afterSeq, int limit) {
        List<ProcessRecord> sorted = new ArrayList<>(records.values());
        sorted.sort(Comparator.comparingLong(r -> r.seq));
        List<ProcessSnapshot> out = new ArrayList<>();
        for (ProcessRecord rec : sorted) {
            if (rec.seq <= afterSeq) {
                continue;
            }
            ProcessSnapshot s;
            synchronized (rec) {
                s = rec.snapshot();
            }
            if (filter.test(s)) {
                out.add(s);
                if (out.size() > limit) {
                    break;
                }
            }
        }
        return out;
    }

    /** The sequence number of a process, for page tokens. */
    public long seqOf(String id) {
        ProcessRecord rec = records.get(id);
        return rec == null ? 0 : rec.seq;
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
        ProcessRecord rec = find(idOrName);
        AtomicBoolean done = new AtomicBoolean();
        Runnable finish = () -> {
            if (done.compareAndSet(false, true)) {
                ProcessSnapshot s;
                synchronized (rec) {
                    s = rec.snapshot();
                }
                onDone.accept(s, false);
            }
        };
        ProcessSnapshot ended = null;
        Optional<ScheduledFuture<?>> timer = Optional.empty();
        synchronized (rec) {
            if (rec.state.isFinal()) {
                ended = rec.snapshot();
            } else {
                // The timer first, so that a failure leaves no joiner behind (its expiry takes
                // the monitor held here, so it cannot run before the joiner is added).
                timer = timeout.flatMap(t -> Timeout.schedule(timers, t, () -> {
                    if (done.compareAndSet(false, true)) {
                        ProcessSnapshot s;
                        synchronized (rec) {
                            rec.joiners.remove(finish);
                            s = rec.snapshot();
                        }
                        onDone.accept(s, true);
                    }
                }));
                rec.joiners.add(finish);
            }
        }
        if (ended != null) {
            // Ended already (the common case for a short child): answered here, outside the
            // monitor, rather than after a hand-off to the timer thread.
            onDone.accept(ended, false);
            return () -> {};
        }
        Optional<ScheduledFuture<?>> joinTimer = timer;
        return () -> {
            done.set(true);
            joinTimer.ifPresent(f -> f.cancel(false));
            synchronized (rec) {
                rec.joiners.remove(finish);
            }
        };
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
        ProcessRecord rec = find(idOrName);
        List<Runnable> notify = List.of();
        ProcessSnapshot snap;
        synchronized (rec) {
            requireClaimed(rec);
            if (!(action instanceof SignalAction.Send)) {
                notify = ProcessRestart.cancel(rec, "stopped");
            }
            switch (action) {
                case SignalAction.Send s -> {
                    if (!(rec.state instanceof ProcessState.Running)) {
                        throw new ForkdException.FailedPrecondition("PROCESS_NOT_RUNNING",
                                "process \"" + rec.id + "\" is not running (" + stateName(rec.state) + ")",
                                Map.of("id", rec.id));
                    }
                    rec.agent.signal(rec.id, rec.run, s.signal());
                }
                case SignalAction.Terminate t -> notify = concat(notify, stop(rec, SIGTERM,
                        t.grace().orElse(rec.spec.stopGrace())));
                case SignalAction.Kill k -> notify = concat(notify, stop(rec, SIGKILL, Duration.ZERO));
                case SignalAction.Stop st -> notify = concat(notify, stop(rec, st.signal(), st.grace()));
            }
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
        ProcessRecord rec = find(idOrName);
        List<Runnable> notify;
        synchronized (rec) {
            requireClaimed(rec);
            // As at its spawn: a daemon runs only within its session, so none outlives it.
            Optional<String> session = daemonOf(rec).filter(sid -> !childSessions.isOpen(sid));
            if (session.isPresent()) {
                throw new ForkdException.NotFound("session", session.get());
            }
            notify = restarts.request(rec, grace.orElse(rec.spec.stopGrace()), outcome -> {
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
        ProcessRecord rec = find(idOrName);
        synchronized (rec) {
            return rec.outputTimes.offsetSince(since, rec.output.start(), rec.output.end());
        }
    }

    /** Forgets an ended process and its output. */
    public void delete(String idOrName) {
        ProcessRecord rec = find(idOrName);
        List<Runnable> notify;
        synchronized (rec) {
            if (!rec.state.isFinal()) {
                throw new ForkdException.FailedPrecondition("PROCESS_NOT_ENDED",
                        "process \"" + rec.id + "\" has not ended (" + stateName(rec.state)
                                + "); terminate it first", Map.of("id", rec.id));
            }
            notify = new ArrayList<>(rec.listeners);
            rec.listeners.clear();
        }
        forget(rec);
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
     * Like {@link #watch(String, Runnable)}; with {@code hold}, the child's output is held while
     * this watcher is more than half the output cap behind, so it loses nothing.
     */
    public WatchHandle watch(String idOrName, Runnable onChange, boolean hold, long fromOffset) {
        ProcessRecord rec = find(idOrName);
        rec.listeners.add(onChange);
        Object holder = new Object();
        if (hold) {
            synchronized (rec) {
                rec.holders.put(holder, fromOffset);
                // The watcher the spawn held for is here: from now on its cursor decides.
                dropSpawnHold(rec);
            }
        }
        return new WatchHandle() {
            @Override
            public void readUpTo(long offset) {
                if (hold) {
                    synchronized (rec) {
                        rec.holders.put(holder, offset);
                        maybeResume(rec);
                    }
                }
            }

            @Override
            public ProcessSnapshot snapshot() {
                synchronized (rec) {
                    return rec.snapshot();
                }
            }

            @Override
            public OutputLog.Read read(long offset, int maxBytes) {
                synchronized (rec) {
                    return rec.output.read(offset, maxBytes);
                }
            }

            @Override
            public boolean exists() {
                return records.get(rec.id) == rec;
            }

            @Override
            public void close() {
                rec.listeners.remove(onChange);
                if (hold) {
                    synchronized (rec) {
                        rec.holders.remove(holder);
                        maybeResume(rec);
                    }
                }
            }
        };
    }

    /** The agent's answer to a stdin write. */
    public record StdinResult(long bytes, boolean closed, Optional<String> error) {}

    /** Writes to a running child's stdin; {@code onDone} gets the agent's answer. */
    public void writeStdin(String idOrName, byte[] data, boolean close, Consumer<StdinResult> onDone) {
        ProcessRecord rec = find(idOrName);
        synchronized (rec) {
            if (!rec.spec.stdinPipe()) {
                throw new ForkdException.FailedPrecondition("STDIN_NOT_PIPED",
                        "process \"" + rec.id + "\" was not spawned with stdin_mode PIPE",
                        Map.of("id", rec.id));
            }
            if (!(rec.state instanceof ProcessState.Running)) {
                throw new ForkdException.FailedPrecondition("PROCESS_NOT_RUNNING",
                        "process \"" + rec.id + "\" is not running (" + stateName(rec.state) + ")",
                        Map.of("id", rec.id));
            }
            requireClaimed(rec);
            if (rec.stdinClosed) {
                throw new ForkdException.FailedPrecondition("STDIN_CLOSED",
                        "stdin of process \"" + rec.id + "\" is already closed", Map.of("id", rec.id));
            }
            if (rec.stdinAcks.size() >= 64) {
                throw new ForkdException.ResourceExhausted("STDIN_BACKLOG",
                        "too many stdin writes in flight for process \"" + rec.id + "\"");
            }
            rec.stdinClosed = close;
            rec.stdinAcks.addLast(ack -> onDone.accept(
                    new StdinResult(ack.bytes(), ack.closed(), ack.error())));
            rec.agent.writeStdin(rec.id, rec.run, data, close);
        }
    }

    /** Terminates the daemon processes a session spawned; returns how many. */
    public int terminateDaemonsOf(String sessionId) {
        // From the index, not a pass over all records: every child's session ends when it exits.
        Set<ProcessRecord> daemons = daemonsBySession.getOrDefault(sessionId, Set.of());
        int n = 0;
        for (ProcessRecord rec : List.copyOf(daemons)) {
            List<Runnable> notify;
            synchronized (rec) {
                if (rec.state.isFinal()) {
                    continue;
                }
                notify = concat(ProcessRestart.cancel(rec, "stopped as its session ended"),
                        stop(rec, SIGTERM, rec.spec.stopGrace()));
                n++;
            }
            runEach(notify);
        }
        return n;
    }

    /** The session a daemon belongs to; empty for a process that is not a daemon of a session. */
    private static Optional<String> daemonOf(ProcessRecord rec) {
        return rec.spec.daemon() ? rec.spec.sessionId() : Optional.empty();
    }

    /** Counts of records by state name, for status. */
    public Map<String, Integer> countByState() {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        for (ProcessRecord rec : records.values()) {
            synchronized (rec) {
                counts.merge(stateName(rec.state), 1, Integer::sum);
            }
        }
        return counts;
    }

    // ---- agent events -------------------------------------------------------------------------

    public void onStarted(String processId, int run, int pid) {
        ProcessRecord rec = records.get(processId);
        if (rec == null) {
            return;
        }
        List<Runnable> notify;
        Consumer<SpawnOutcome> waiter;
        ProcessSnapshot snap;
        synchronized (rec) {
            if (!rec.isRunOf(run) || !(rec.state instanceof ProcessState.Starting)) {
                return;
            }
            notify = rec.transition(new ProcessState.Running(rec.agent.agentId(), pid, clock.instant()),
                    clock.instant());
            if (rec.stopRequested) {
                rec.agent.signal(rec.id, run, SIGKILL);
            } else {
                rec.spec.timeout().ifPresent(t -> armTimeout(rec, t));
            }
            waiter = rec.spawnWaiter;
            rec.spawnWaiter = null;
            snap = rec.snapshot();
        }
        if (waiter != null) {
            waiter.accept(new SpawnOutcome.Started(snap));
        }
        runEach(notify);
    }

    /** @return whether it applied (false for a run that is not starting: a repeat, or stale) */
    public boolean onStartFailed(String processId, int run, StartError error) {
        ProcessRecord rec = records.get(processId);
        if (rec == null) {
            return false;
        }
        Consumer<SpawnOutcome> waiter;
        List<Runnable> notify = List.of();
        synchronized (rec) {
            if (!rec.isRunOf(run) || !(rec.state instanceof ProcessState.Starting)) {
                return false;
            }
            waiter = rec.spawnWaiter;
            rec.spawnWaiter = null;
            if (waiter == null) {
                notify = ended(rec, new ProcessState.FailedToStart(error, clock.instant()));
            }
        }
        if (waiter != null) {
            waiter.accept(new SpawnOutcome.Failed(error));
        }
        runEach(notify);
        return true;
    }

    public void onOutput(String processId, int run, OutputLog.Stream stream, ByteBuffer data) {
        ProcessRecord rec = records.get(processId);
        if (rec == null) {
            return;
        }
        synchronized (rec) {
            if (!rec.isRunOf(run)) {
                return;
            }
            long slowest = slowestHolder(rec);
            long bytes = data.remaining();
            long startBefore = rec.output.start();
            rec.outputTimes.captured(rec.output.end(), bytes, clock.instant(), startBefore);
            kept.output(rec, stream, rec.output.end(), data.duplicate());
            rec.output.append(stream, data, slowest);
            events.outputCaptured(bytes, rec.output.start() - startBefore);
            if (!rec.outputHeld && rec.agent != null && behind(rec, slowest) > rec.spec.outputLimit() / 2) {
                rec.outputHeld = true;
                rec.agent.holdOutput(rec.id, rec.run, true);
            }
        }
        for (Runnable l : rec.listeners) {
            l.run();
        }
    }

    /**
     * @return whether it applied (false for a run that is not running: an exit an agent sent again
     *     after a restart, applied already, or a stale one)
     */
    public boolean onExited(String processId, int run, int exitCode) {
        ProcessRecord rec = records.get(processId);
        if (rec == null) {
            return false;
        }
        List<Runnable> notify;
        synchronized (rec) {
            if (!rec.isRunOf(run) || !(rec.state instanceof ProcessState.Running r) || rec.agent == null) {
                return false;
            }
            Instant now = clock.instant();
            ProcessState end = exitCode >= 0
                    ? new ProcessState.Exited(r.pid(), exitCode, now)
                    : new ProcessState.Signaled(r.pid(), -exitCode, now);
            notify = ended(rec, end);
        }
        runEach(notify);
        return true;
    }

    public void onStdinWritten(String processId, int run, long bytes, boolean closed,
            Optional<String> error) {
        ProcessRecord rec = records.get(processId);
        if (rec == null) {
            return;
        }
        Consumer<StdinAck> ack;
        synchronized (rec) {
            if (!rec.isRunOf(run)) {
                return;
            }
            ack = rec.stdinAcks.pollFirst();
        }
        if (ack != null) {
            ack.accept(new StdinAck(bytes, closed, error));
        }
    }

    /**
     * An agent died or disconnected: its processes are lost, and their process groups are killed
     * so nothing runs on unseen.
     */
    public void onAgentLost(String agentId, String cause) {
        for (ProcessRecord rec : records.values()) {
            Consumer<SpawnOutcome> waiter = null;
            List<Runnable> notify = List.of();
            boolean resend = false;
            synchronized (rec) {
                if (rec.agent == null || !rec.agent.agentId().equals(agentId)) {
                    continue;
                }
                String why = "agent " + agentId + " " + cause;
                switch (rec.state) {
                    case ProcessState.Starting s when rec.spawnWaiter != null && !rec.stopRequested -> {
                        // The agent never answered this spawn: it is sent to another agent (waiting
                        // for a replacement within the wait for an agent). Had the lost agent
                        // started it in its last instant, that copy dies with the agent's others.
                        rec.agent = null;
                        resend = true;
                    }
                    case ProcessState.Starting s -> {
                        waiter = rec.spawnWaiter;
                        rec.spawnWaiter = null;
                        if (waiter == null) {
                            notify = ended(rec, new ProcessState.Lost(0, why, clock.instant()));
                        }
                    }
                    case ProcessState.Running r -> {
                        groupKiller.killGroup(r.pid());
                        notify = ended(rec, new ProcessState.Lost(r.pid(), why, clock.instant()));
                    }
                    default -> { }
                }
                failStdin(rec, "agent lost");
            }
            if (waiter != null) {
                waiter.accept(new SpawnOutcome.Lost("agent " + agentId + " " + cause
                        + " before the process started"));
            }
            if (resend) {
                startRun(rec, rec.run);
            }
            runEach(notify);
        }
    }

    // ---- restarts of the supervisor -----------------------------------------------------------

    /** The records a previous supervisor kept: load them, and reconcile them with returning agents. */
    public ProcessRestore restore() {
        return restore;
    }

    /** A restored record joins the table; new ids continue after the highest one (never reused). */
    void restored(ProcessRecord rec) {
        records.put(rec.id, rec);
        recordCount.incrementAndGet();
        seq.accumulateAndGet(rec.seq, Math::max);
        rec.spec.name().ifPresent(n -> names.put(n, rec.id));
        daemonOf(rec).ifPresent(sid -> daemonsBySession.computeIfAbsent(sid, k -> ConcurrentHashMap.newKeySet()).add(rec));
    }

    /** A restored run ended while no supervisor saw it: its restart policy applies. Monitor held. */
    List<Runnable> endRestored(ProcessRecord rec, ProcessState end) {
        return ended(rec, end);
    }

    /** A restored record was backing off: its restart happens at {@code at} (at once if that is past). */
    void restartAt(ProcessRecord rec, Instant at) {
        long nanos = Math.max(0, Duration.between(clock.instant(), at).toNanos());
        int next = rec.run + 1;
        synchronized (rec) {
            rec.restartTimer = timers.schedule(() -> restart(rec, next), nanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Arms the current run's {@code --timeout} to expire after {@code left} (for a restored run, what
     * is left of it counted from its start; at once if none is). Monitor held.
     */
    void armTimeout(ProcessRecord rec, Duration left) {
        int run = rec.run;
        Timeout.schedule(timers, left, () -> onRunTimedOut(rec, run)).ifPresent(f -> rec.timeoutTimer = f);
    }

    /** A restored process whose agent has not come back yet cannot be signalled or written to. */
    private static void requireClaimed(ProcessRecord rec) {
        if (rec.agent == null && (rec.state instanceof ProcessState.Running)) {
            throw new ForkdException.Unavailable("NO_AGENT", "process \"" + rec.id
                    + "\" is waiting for its agent to come back after a supervisor restart");
        }
    }

    // ---- transitions --------------------------------------------------------------------------

    private void startRun(ProcessRecord rec, int run) {
        agents.acquire(agent -> {
            synchronized (rec) {
                if (records.get(rec.id) != rec) {
                    return;
                }
                if (run > 0 && !(rec.state instanceof ProcessState.Backoff)) {
                    return; // stopped while backing off
                }
                endChildSession(rec);
                ChildSession session;
                try {
                    // First, as it can be refused (the session limit): nothing has changed yet.
                    session = childSessions.open(rec.id);
                    rec.childSession = session.id();
                } catch (ForkdException e) {
                    timers.execute(() -> runRefused(rec, e));
                    return;
                }
                rec.agent = agent;
                rec.run = run;
                rec.pid = 0;
                rec.stdinClosed = false;
                rec.outputHeld = false; // a new child: nothing held yet
                List<Runnable> notify = rec.transition(new ProcessState.Starting(agent.agentId()),
                        clock.instant());
                Map<String, String> env = new java.util.HashMap<>(rec.spec.env());
                env.put("FORKD_PROCESS_ID", rec.id);
                env.putAll(session.env());
                agent.start(new AgentPort.StartCommand(rec.id, run, rec.spec.argv(), env,
                        rec.spec.cwd(), rec.spec.stdinPipe(), rec.spec.limits()));
                notify.forEach(timers::execute);
            }
        }, error -> {
            Consumer<SpawnOutcome> waiter;
            List<Runnable> notify = List.of();
            synchronized (rec) {
                waiter = rec.spawnWaiter;
                rec.spawnWaiter = null;
                if (waiter == null) {
                    notify = ended(rec, new ProcessState.FailedToStart(
                            new StartError(StartError.Kind.RESOURCES, error.getMessage()), clock.instant()));
                }
            }
            if (waiter != null) {
                waiter.accept(new SpawnOutcome.Lost(error.getMessage()));
            }
            runEach(notify);
        });
    }

    /**
     * A run could not begin (its session was refused): a spawn still waiting fails with that error
     * and leaves no record; a restart ends the process as failed to start.
     */
    private void runRefused(ProcessRecord rec, ForkdException error) {
        Consumer<SpawnOutcome> waiter;
        List<Runnable> notify = List.of();
        synchronized (rec) {
            waiter = rec.spawnWaiter;
            rec.spawnWaiter = null;
            if (waiter == null && !rec.state.isFinal()) {
                notify = ended(rec, new ProcessState.FailedToStart(
                        new StartError(StartError.Kind.RESOURCES, error.getMessage()), clock.instant()));
            }
        }
        if (waiter != null) {
            waiter.accept(new SpawnOutcome.Refused(error));
        }
        runEach(notify);
    }

    /** A run ended: decide about restarting. Call with the monitor held. */
    private List<Runnable> ended(ProcessRecord rec, ProcessState end) {
        String session = rec.childSession;
        rec.childSession = null;
        List<Runnable> notify = endedRun(rec, end);
        if (session == null || session.isEmpty()) {
            return notify;
        }
        // The run's session ends before anyone hears of the end: once a Join has answered, the
        // child's credential acts as nothing and its locks have passed on. One runnable, so that
        // notifying on several threads cannot overtake it.
        return List.of(() -> {
            try {
                childSessions.end(session);
            } finally {
                runEach(notify);
            }
        });
    }

    private List<Runnable> endedRun(ProcessRecord rec, ProcessState end) {
        Instant now = clock.instant();
        failStdin(rec, "process ended");
        if (ProcessRestart.isStoppedForRestart(rec)) {
            return restarts.stopped(rec, end);
        }
        RestartDecision decision = RestartDecision.decide(rec.spec.restart(), end, rec.stopRequested,
                rec.restartTimes, now, random);
        return switch (decision) {
            case RestartDecision.NoRestart n -> rec.transition(end, now);
            case RestartDecision.GiveUp g -> rec.transition(new ProcessState.Fatal(end, g.cause()), now);
            case RestartDecision.RestartAfter r -> {
                Instant at = now.plus(r.delay());
                List<Runnable> notify = rec.transition(new ProcessState.Backoff(end, at), now);
                rec.endedAt = now;
                int next = rec.run + 1;
                rec.restartTimer = timers.schedule(() -> restart(rec, next), Timeout.nanos(r.delay()),
                        TimeUnit.NANOSECONDS);
                yield notify;
            }
        };
    }

    private void restart(ProcessRecord rec, int run) {
        synchronized (rec) {
            if (!(rec.state instanceof ProcessState.Backoff) || rec.stopRequested) {
                return;
            }
            rec.restartCount++;
            rec.restartTimes.add(clock.instant());
            if (rec.restartTimes.size() > rec.spec.restart().maxRestarts() + 1) {
                rec.restartTimes.remove(0);
            }
        }
        startRun(rec, run);
    }

    /** Terminate or kill. Call with the monitor held; returns who to notify. */
    private List<Runnable> stop(ProcessRecord rec, int signal, Duration grace) {
        rec.stopRequested = true;
        switch (rec.state) {
            case ProcessState.Running r -> {
                int run = rec.run;
                rec.agent.signal(rec.id, run, signal);
                if (signal != SIGKILL) {
                    escalateWithin(rec, run, grace);
                }
                return List.of();
            }
            case ProcessState.Backoff b -> {
                return rec.transition(b.ended(), clock.instant());
            }
            default -> {
                return List.of(); // Starting: killed as soon as it starts; ended: nothing to do
            }
        }
    }

    /**
     * Sends SIGKILL after {@code grace} unless an escalation already pending comes sooner: a stop
     * asked for with a short grace is not held up by a longer one (the timeout's stop_grace). A grace
     * of NO_LIMIT or more never escalates. Monitor held.
     */
    private void escalateWithin(ProcessRecord rec, int run, Duration grace) {
        if (rec.killTimer != null && !rec.killTimer.isDone()
                && rec.killTimer.getDelay(TimeUnit.NANOSECONDS) <= Timeout.nanos(grace)) {
            return;
        }
        Timeout.schedule(timers, grace, () -> killAfterGrace(rec, run)).ifPresent(f -> {
            if (rec.killTimer != null) {
                rec.killTimer.cancel(false);
            }
            rec.killTimer = f;
        });
    }

    private void onRunTimedOut(ProcessRecord rec, int run) {
        synchronized (rec) {
            if (!rec.isRunOf(run) || !(rec.state instanceof ProcessState.Running)) {
                return;
            }
            rec.agent.signal(rec.id, run, SIGTERM);
            escalateWithin(rec, run, rec.spec.stopGrace());
        }
    }

    private static void killAfterGrace(ProcessRecord rec, int run) {
        synchronized (rec) {
            if (rec.isRunOf(run) && rec.state instanceof ProcessState.Running) {
                rec.agent.signal(rec.id, run, SIGKILL);
            }
        }
    }

    /** How far a holder at {@code offset} is behind the end of the output (0 without holders). */
    private static long behind(ProcessRecord rec, long offset) {
        return offset == Long.MAX_VALUE ? 0 : Math.max(0, rec.output.end() - offset);
    }

    /** The offset of the slowest holding watcher, or {@code Long.MAX_VALUE} if none. Monitor held. */
    private static long slowestHolder(ProcessRecord rec) {
        long min = Long.MAX_VALUE;
        for (long cursor : rec.holders.values()) {
            min = Math.min(min, cursor);
        }
        return min;
    }

    /** Resumes held output once every holding watcher is within a quarter of the cap. */
    private static void maybeResume(ProcessRecord rec) {
        if (rec.outputHeld && behind(rec, slowestHolder(rec)) <= rec.spec.outputLimit() / 4) {
            rec.outputHeld = false;
            if (rec.agent != null && rec.state instanceof ProcessState.Running) {
                rec.agent.holdOutput(rec.id, rec.run, false);
            }
        }
    }

    /** What the run's session owned (locks, deliveries) is released as soon as the run ends. */
    private void endChildSession(ProcessRecord rec) {
        if (rec.childSession != null && !rec.childSession.isEmpty()) {
            String sid = rec.childSession;
            rec.childSession = null;
            timers.execute(() -> childSessions.end(sid));
        }
    }

    private void failStdin(ProcessRecord rec, String why) {
        while (!rec.stdinAcks.isEmpty()) {
            Consumer<StdinAck> ack = rec.stdinAcks.pollFirst();
            timers.execute(() -> ack.accept(new StdinAck(0, true, Optional.of(why))));
        }
    }

    private void forget(ProcessRecord rec) {
        synchronized (rec) {
            endChildSession(rec);
            rec.output.free();
        }
        if (records.remove(rec.id, rec)) {
            recordCount.decrementAndGet();
            kept.delete(rec);
        }
        daemonOf(rec).ifPresent(sid -> daemonsBySession.computeIfPresent(sid, (k, set) -> {
            set.remove(rec);
            return set.isEmpty() ? null : set;
        }));
        rec.spec.name().ifPresent(n -> names.remove(n, rec.id));
    }

    private ProcessRecord find(String idOrName) {
        ProcessRecord rec = records.get(idOrName);
        if (rec == null) {
            String id = names.get(idOrName);
            rec = id == null ? null : records.get(id);
        }
        if (rec == null) {
            throw new ForkdException.NotFound("process", idOrName);
        }
        return rec;
    }

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

    private static List<Runnable> concat(List<Runnable> a, List<Runnable> b) {
        if (a.isEmpty()) {
            return b;
        }
        List<Runnable> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** Used in logs only. */
    static void logFailure(String what, Throwable t) {
        LOG.log(Level.WARNING, what, t);
    }
}
