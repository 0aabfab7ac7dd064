package dev.forkd.server.process;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.ProcessTable.SignalAction;
import dev.forkd.server.time.Timeout;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Signals and stops: a client's signal, a terminate's SIGTERM and its escalation to SIGKILL after the
 * grace, and a run's {@code --timeout}. Every method but the timers' own is called by the table with
 * the record's monitor held, and returns who to notify; a state change goes through the record's
 * transition function.
 */
final class ProcessStops {

    static final int SIGKILL = 9;
    static final int SIGTERM = 15;

    private final ScheduledExecutorService timers;
    private final Clock clock;

    ProcessStops(ScheduledExecutorService timers, Clock clock) {
        this.timers = timers;
        this.clock = clock;
    }

    /** A client's signal; a restart on its way is cancelled by all but a plain send. Monitor held. */
    List<Runnable> signal(ProcessRecord rec, SignalAction action) {
        ProcessRestore.requireClaimed(rec);
        List<Runnable> notify = List.of();
        if (!(action instanceof SignalAction.Send)) {
            notify = ProcessRestart.cancel(rec, "stopped");
        }
        switch (action) {
            case SignalAction.Send s -> {
                if (!(rec.state instanceof ProcessState.Running)) {
                    throw new ForkdException.FailedPrecondition("PROCESS_NOT_RUNNING",
                            "process \"" + rec.id + "\" is not running (" + ProcessTable.stateName(rec.state) + ")",
                            Map.of("id", rec.id));
                }
                rec.agent.signal(rec.id, rec.run, s.signal());
            }
            case SignalAction.Terminate t -> notify = ProcessTable.concat(notify, stop(rec, SIGTERM,
                    t.grace().orElse(rec.spec.stopGrace())));
            case SignalAction.Kill k -> notify = ProcessTable.concat(notify, stop(rec, SIGKILL, Duration.ZERO));
            case SignalAction.Stop st -> notify = ProcessTable.concat(notify, stop(rec, st.signal(), st.grace()));
        }
        return notify;
    }

    /** Terminate or kill, and no more restarts. Monitor held; returns who to notify. */
    List<Runnable> stop(ProcessRecord rec, int signal, Duration grace) {
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
     * A run has started: one stopped while it was starting is killed now; otherwise its
     * {@code --timeout} starts. Monitor held.
     */
    void runStarted(ProcessRecord rec, int run) {
        if (rec.stopRequested) {
            rec.agent.signal(rec.id, run, SIGKILL);
        } else {
            rec.spec.timeout().ifPresent(t -> armTimeout(rec, t));
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

    private void onRunTimedOut(ProcessRecord rec, int run) {
        synchronized (rec) {
            if (!rec.isRunOf(run) || !(rec.state instanceof ProcessState.Running)) {
                return;
            }
            rec.agent.signal(rec.id, run, SIGTERM);
            escalateWithin(rec, run, rec.spec.stopGrace());
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

    private static void killAfterGrace(ProcessRecord rec, int run) {
        synchronized (rec) {
            if (rec.isRunOf(run) && rec.state instanceof ProcessState.Running) {
                rec.agent.signal(rec.id, run, SIGKILL);
            }
        }
    }
}
