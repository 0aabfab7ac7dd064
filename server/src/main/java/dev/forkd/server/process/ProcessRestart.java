package dev.forkd.server.process;

import dev.forkd.server.error.ForkdException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.ObjIntConsumer;

/**
 * {@code forkd restart}: a process is stopped as a terminate stops it, then started again from its
 * spec under the same id, as a new run. Every step is a state change of the record's one transition
 * function:
 *
 * <pre>
 * Running | Starting -> (SIGTERM, grace, SIGKILL) -> its end -> Backoff(end, now) -> Starting -> Running
 * (ended) | Backoff | Fatal                       ->            Backoff(end, now) -> Starting -> Running
 * </pre>
 *
 * Those who asked are answered when the new run has started, or with the state its start ended in
 * ({@link ProcessRecord#transition} settles them). A terminate or kill before then cancels it.
 * Plain Java; the table calls it with the record's monitor held.
 */
final class ProcessRestart {

    /** Restart calls one process may have waiting at once (each holds a caller's answer). */
    static final int MAX_WAITERS = 64;

    /** The label the pools put on their workers: a pool replaces its own workers. */
    static final String POOL_LABEL = "forkd.pool";

    /** How a restart call is answered. */
    sealed interface Outcome {
        /** The new run started (or its start ended so): the record as it is then. */
        record Restarted(ProcessSnapshot process) implements Outcome {}

        /** It was stopped before the new run began. */
        record Cancelled(ForkdException error) implements Outcome {}
    }

    /**
     * A restart asked for and not yet answered.
     *
     * @param fromRun the run it stops
     */
    static final class Pending {
        final int fromRun;
        final List<Consumer<Outcome>> waiters = new ArrayList<>();
        /** The old run is over and the new one is on its way: the next settled state answers. */
        boolean begun;

        Pending(int fromRun) {
            this.fromRun = fromRun;
        }

        /**
         * Called by the transition function after {@code next}: answers the waiters once the new
         * run has started or ended trying; returns who to call.
         */
        List<Runnable> settle(ProcessRecord rec, ProcessState next) {
            if (!begun || next instanceof ProcessState.Starting) {
                return List.of();
            }
            rec.pendingRestart = null;
            Outcome done = new Outcome.Restarted(rec.snapshot());
            List<Runnable> out = new ArrayList<>(waiters.size());
            for (Consumer<Outcome> w : waiters) {
                out.add(() -> w.accept(done));
            }
            return out;
        }
    }

    /** The table's terminate: SIGTERM, then SIGKILL after the grace; returns who to notify. */
    private final BiFunction<ProcessRecord, Duration, List<Runnable>> stop;
    /** The table's start of a new run of a record in Backoff (its usual restart after a back-off). */
    private final ObjIntConsumer<ProcessRecord> startAgain;
    private final ScheduledExecutorService timers;
    private final Clock clock;

    ProcessRestart(BiFunction<ProcessRecord, Duration, List<Runnable>> stop, ObjIntConsumer<ProcessRecord> startAgain,
            ScheduledExecutorService timers, Clock clock) {
        this.stop = stop;
        this.startAgain = startAgain;
        this.timers = timers;
        this.clock = clock;
    }

    /**
     * Asks for a restart of {@code rec}; {@code onDone} is told once. Refusals throw, with nothing
     * changed. Monitor held; returns who to notify.
     */
    List<Runnable> request(ProcessRecord rec, Duration grace, Consumer<Outcome> onDone) {
        if (rec.spec.labels().containsKey(POOL_LABEL)) {
            throw new ForkdException.FailedPrecondition("POOL_WORKER_NOT_RESTARTABLE",
                    "process \"" + rec.id + "\" is a worker of pool \"" + rec.spec.labels().get(POOL_LABEL)
                            + "\", which replaces its own workers", Map.of("id", rec.id));
        }
        if (rec.spawnWaiter != null) {
            throw new ForkdException.FailedPrecondition("PROCESS_NOT_RUNNING",
                    "process \"" + rec.id + "\" is still being spawned; restart it once it runs",
                    Map.of("id", rec.id));
        }
        Pending pending = rec.pendingRestart;
        if (pending != null) {
            // Already on its way: this caller hears of the same new run.
            if (pending.waiters.size() >= MAX_WAITERS) {
                throw new ForkdException.ResourceExhausted("TOO_MANY_WAITERS", "process \"" + rec.id
                        + "\" already has " + MAX_WAITERS + " restart calls waiting (max " + MAX_WAITERS + ")");
            }
            pending.waiters.add(onDone);
            return List.of();
        }
        pending = new Pending(rec.run);
        pending.waiters.add(onDone);
        rec.pendingRestart = pending;
        return switch (rec.state) {
            // Its end comes back through stopped(), which starts it again.
            case ProcessState.Running r -> stop.apply(rec, grace);
            case ProcessState.Starting s -> stop.apply(rec, grace);
            case ProcessState.Backoff b -> again(rec, b.ended());
            case ProcessState.Fatal f -> again(rec, f.ended());
            default -> again(rec, rec.state);
        };
    }

    /** Whether the end of the current run is one a restart asked for. Monitor held. */
    static boolean isStoppedForRestart(ProcessRecord rec) {
        return rec.pendingRestart != null && !rec.pendingRestart.begun && rec.pendingRestart.fromRun == rec.run;
    }

    /** The run a restart stopped has ended with {@code end}: start it again. Monitor held. */
    List<Runnable> stopped(ProcessRecord rec, ProcessState end) {
        rec.endedAt = clock.instant();
        return again(rec, end);
    }

    /** A terminate or kill came first: the restart is off. Monitor held; returns who to tell. */
    static List<Runnable> cancel(ProcessRecord rec, String why) {
        Pending pending = rec.pendingRestart;
        if (pending == null) {
            return List.of();
        }
        rec.pendingRestart = null;
        Outcome cancelled = new Outcome.Cancelled(new ForkdException.FailedPrecondition("RESTART_CANCELLED",
                "process \"" + rec.id + "\" was " + why + " before it restarted", Map.of("id", rec.id)));
        List<Runnable> out = new ArrayList<>();
        for (Consumer<Outcome> w : pending.waiters) {
            out.add(() -> w.accept(cancelled));
        }
        return out;
    }

    /**
     * Back-off of no length, then the usual restart: a manual restart counts in the restart counter
     * but starts the restart policy's window afresh (as supervisord's start does).
     */
    private List<Runnable> again(ProcessRecord rec, ProcessState end) {
        rec.cancelTimers(); // the old run's kill, timeout and back-off timers
        rec.stopRequested = false;
        rec.restartTimes.clear();
        Instant now = clock.instant();
        List<Runnable> notify = rec.transition(new ProcessState.Backoff(end, now), now);
        rec.pendingRestart.begun = true;
        int next = rec.run + 1;
        rec.restartTimer = timers.schedule(() -> startAgain.accept(rec, next), 0, TimeUnit.NANOSECONDS);
        return notify;
    }
}
