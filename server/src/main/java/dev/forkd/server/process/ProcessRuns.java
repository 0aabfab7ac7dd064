package dev.forkd.server.process;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.process.ChildSessions.ChildSession;
import dev.forkd.server.process.ProcessRecord.SpawnOutcome;
import dev.forkd.server.time.Timeout;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;

/**
 * The runs of each process: a spawn admits a record and asks an agent for its first run; a run that
 * ends goes through {@link #ended}, the one path that decides about a restart (its restart policy, or
 * a {@code forkd restart} on its way) and ends the run's session before anyone hears of the end; a
 * restart after a back-off starts the next run. Every state change is the record's
 * {@link ProcessRecord#transition}, which writes the kept record and the event in order.
 */
final class ProcessRuns {

    private final AgentPool agents;
    private final ChildSessions childSessions;
    private final ScheduledExecutorService timers;
    private final Clock clock;
    private final DoubleSupplier random;
    private final ServerEvents events;
    private final ProcessRecords kept;
    private final ProcessIndex index;
    private final ProcessOutput output;
    private final ProcessStdin stdin;
    private final ProcessRestart restarts;

    ProcessRuns(AgentPool agents, ChildSessions childSessions, ScheduledExecutorService timers, Clock clock,
            DoubleSupplier random, ServerEvents events, ProcessRecords kept, ProcessIndex index,
            ProcessOutput output, ProcessStdin stdin, ProcessStops stops) {
        this.agents = agents;
        this.childSessions = childSessions;
        this.timers = timers;
        this.clock = clock;
        this.random = random;
        this.events = events;
        this.kept = kept;
        this.index = index;
        this.output = output;
        this.stdin = stdin;
        this.restarts = new ProcessRestart((rec, grace) -> stops.stop(rec, ProcessStops.SIGTERM, grace),
                this::restart, timers, clock);
    }

    /** See {@link ProcessTable#spawn(ProcessSpec, Optional, Consumer, Consumer)}. */
    void spawn(ProcessSpec spec, Optional<String> parent, Consumer<ProcessSnapshot> onStarted,
            Consumer<ForkdException> onError) {
        ProcessRecord rec;
        try {
            rec = index.admit(spec, parent, clock.instant());
        } catch (ForkdException e) {
            onError.accept(e);
            return;
        }
        rec.events = events;
        rec.kept = kept;
        rec.startingSince = rec.createdAt;
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
        index.publish(rec);
        Optional<String> daemonSession = ProcessIndex.daemonOf(rec);
        // Checked once the record is visible: a session ending from here on terminates it as a daemon
        // of that session; one that ended before is refused, so no daemon outlives its session.
        if (daemonSession.isPresent() && !childSessions.isOpen(daemonSession.get())) {
            forget(rec);
            onError.accept(new ForkdException.NotFound("session", daemonSession.get()));
            return;
        }
        if (spec.holdUntilWatched()) {
            output.holdUntilWatched(rec);
        }
        startRun(rec, 0);
    }

    /**
     * A {@code forkd restart} of {@code rec} (see {@link ProcessRestart}). Refusals throw, with
     * nothing changed. Monitor held; returns who to notify.
     */
    List<Runnable> requestRestart(ProcessRecord rec, Duration grace, Consumer<ProcessRestart.Outcome> onDone) {
        ProcessRestore.requireClaimed(rec);
        // As at its spawn: a daemon runs only within its session, so none outlives it.
        Optional<String> session = ProcessIndex.daemonOf(rec).filter(sid -> !childSessions.isOpen(sid));
        if (session.isPresent()) {
            throw new ForkdException.NotFound("session", session.get());
        }
        return restarts.request(rec, grace, onDone);
    }

    /** Asks an agent for run {@code run} of {@code rec}: its first, or the next after a back-off. */
    void startRun(ProcessRecord rec, int run) {
        agents.acquire(agent -> {
            synchronized (rec) {
                if (!index.holds(rec)) {
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
                rec.runOutputStart = rec.output.end();
                List<Runnable> notify = rec.transition(new ProcessState.Starting(agent.agentId()),
                        clock.instant());
                Map<String, String> env = new HashMap<>(rec.spec.env());
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
            ProcessTable.runEach(notify);
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
        ProcessTable.runEach(notify);
    }

    /** A run ended with {@code end}: decide about restarting. Monitor held; returns who to notify. */
    List<Runnable> ended(ProcessRecord rec, ProcessState end) {
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
                ProcessTable.runEach(notify);
            }
        });
    }

    private List<Runnable> endedRun(ProcessRecord rec, ProcessState end) {
        Instant now = clock.instant();
        stdin.failAll(rec, "process ended");
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

    /** A restored record was backing off: its restart happens at {@code at} (at once if that is past). */
    void restartAt(ProcessRecord rec, Instant at) {
        long nanos = Math.max(0, Duration.between(clock.instant(), at).toNanos());
        int next = rec.run + 1;
        synchronized (rec) {
            rec.restartTimer = timers.schedule(() -> restart(rec, next), nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** A back-off is over: the next run starts, unless a stop came first. */
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

    /** What the run's session owned (locks, deliveries) is released as soon as the run ends. */
    private void endChildSession(ProcessRecord rec) {
        if (rec.childSession != null && !rec.childSession.isEmpty()) {
            String sid = rec.childSession;
            rec.childSession = null;
            timers.execute(() -> childSessions.end(sid));
        }
    }

    /** Removes a record and its output: a spawn that failed, or a delete. */
    void forget(ProcessRecord rec) {
        synchronized (rec) {
            endChildSession(rec);
            rec.output.free();
        }
        if (index.remove(rec)) {
            kept.delete(rec);
        }
    }
}
