package dev.forkd.server.process;

import dev.forkd.server.process.ProcessRecord.SpawnOutcome;
import dev.forkd.server.process.ProcessTable.GroupKiller;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * What agents report about the runs they hold: a run started, failed to start, wrote output, exited,
 * answered a stdin write; or the agent itself was lost. A report of a run that is not the record's
 * current one (stale, or sent again after a restart) changes nothing. A run's end goes through
 * {@link ProcessRuns#ended}.
 */
final class AgentReports {

    private static final Logger LOG = Logger.getLogger(AgentReports.class.getName());

    private final ProcessIndex index;
    private final ProcessRuns runs;
    private final ProcessStops stops;
    private final ProcessOutput output;
    private final ProcessStdin stdin;
    private final GroupKiller groupKiller;
    private final Clock clock;

    AgentReports(ProcessIndex index, ProcessRuns runs, ProcessStops stops, ProcessOutput output,
            ProcessStdin stdin, GroupKiller groupKiller, Clock clock) {
        this.index = index;
        this.runs = runs;
        this.stops = stops;
        this.output = output;
        this.stdin = stdin;
        this.groupKiller = groupKiller;
        this.clock = clock;
    }

    void started(String processId, int run, int pid) {
        ProcessRecord rec = index.byId(processId);
        if (rec == null) {
            return;
        }
        List<Runnable> notify;
        Consumer<SpawnOutcome> waiter;
        ProcessSnapshot snap;
        synchronized (rec) {
            // No agent: a restored record that no returning agent has claimed; its report is not this one.
            if (!rec.isRunOf(run) || !(rec.state instanceof ProcessState.Starting) || rec.agent == null) {
                return;
            }
            notify = rec.transition(new ProcessState.Running(rec.agent.agentId(), pid, clock.instant()),
                    clock.instant());
            stops.runStarted(rec, run);
            waiter = rec.spawnWaiter;
            rec.spawnWaiter = null;
            snap = rec.snapshot();
        }
        if (waiter != null) {
            waiter.accept(new SpawnOutcome.Started(snap));
        }
        ProcessTable.runEach(notify);
    }

    /** @return whether it applied (false for a run that is not starting: a repeat, or stale) */
    boolean startFailed(String processId, int run, StartError error) {
        ProcessRecord rec = index.byId(processId);
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
                notify = runs.ended(rec, new ProcessState.FailedToStart(error, clock.instant()));
            }
        }
        if (waiter != null) {
            waiter.accept(new SpawnOutcome.Failed(error));
        }
        ProcessTable.runEach(notify);
        return true;
    }

    /** {@code runOffset}: the bytes of the run its agent sent before this chunk (negative: unknown). */
    void output(String processId, int run, OutputLog.Stream stream, ByteBuffer data, long runOffset) {
        ProcessRecord rec = index.byId(processId);
        if (rec == null) {
            return;
        }
        synchronized (rec) {
            if (!rec.isRunOf(run)) {
                return;
            }
            output.captured(rec, stream, data, runOffset);
        }
        for (Runnable l : rec.outputListeners) {
            l.run();
        }
    }

    /**
     * @return whether it applied (false for a run that is not running: an exit an agent sent again
     *     after a restart, applied already, or a stale one)
     */
    boolean exited(String processId, int run, int pid, int exitCode, boolean oomKilled) {
        ProcessRecord rec = index.byId(processId);
        if (rec == null) {
            return false;
        }
        List<Runnable> notify;
        synchronized (rec) {
            if (!rec.isRunOf(run) || !(rec.state instanceof ProcessState.Running r) || rec.agent == null) {
                return false;
            }
            if (pid != 0 && r.pid() != 0 && r.pid() != pid) {
                // Another child under the same id and run: one an earlier supervisor gave this id to
                // and never kept, whose exit its agent sent again.
                LOG.warning("an exit of pid " + pid + " named " + processId + " run " + run
                        + ", which runs as pid " + r.pid() + ": not applied");
                return false;
            }
            Instant now = clock.instant();
            ProcessState end = exitCode >= 0
                    ? new ProcessState.Exited(r.pid(), exitCode, now)
                    : new ProcessState.Signaled(r.pid(), -exitCode, oomKilled, now);
            notify = runs.ended(rec, end);
        }
        ProcessTable.runEach(notify);
        return true;
    }

    void stdinWritten(String processId, int run, long bytes, boolean closed, Optional<String> error) {
        ProcessRecord rec = index.byId(processId);
        if (rec != null) {
            stdin.written(rec, run, bytes, closed, error);
        }
    }

    /**
     * An agent died or disconnected: its processes are lost, and their process groups are killed
     * so nothing runs on unseen.
     */
    void agentLost(String agentId, String cause) {
        for (ProcessRecord rec : index.all()) {
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
                            notify = runs.ended(rec, new ProcessState.Lost(0, why, clock.instant()));
                        }
                    }
                    case ProcessState.Running r -> {
                        groupKiller.killGroup(r.pid());
                        notify = runs.ended(rec, new ProcessState.Lost(r.pid(), why, clock.instant()));
                    }
                    default -> { }
                }
                stdin.failAll(rec, "agent lost");
            }
            if (waiter != null) {
                waiter.accept(new SpawnOutcome.Lost("agent " + agentId + " " + cause
                        + " before the process started"));
            }
            if (resend) {
                runs.startRun(rec, rec.run);
            }
            ProcessTable.runEach(notify);
        }
    }
}
