package dev.forkd.server.process;

import dev.forkd.agent.v1.StoredProcess;
import dev.forkd.server.auth.Lineage;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.memory.MemoryBudget;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Brings back the process records a previous supervisor kept, and reconciles them with what its
 * agents report when they come back (README "Restarts and durability"):
 * <ul>
 *   <li>an ended process is shown as it ended;
 *   <li>one that was backing off is restarted when its back-off ends;
 *   <li>one that was starting or running waits, unclaimed, for its agent: an agent that re-registers
 *       with it (or reports an event of its run) claims it, so it is {@code RUNNING} again with the
 *       same pid, and an exit it held is applied with its real exit code;
 *   <li>a child an agent runs that no kept record knows is killed;
 *   <li>at {@link #finish()}, after the bounded wait for agents, what no agent claimed is {@code LOST},
 *       and its restart policy applies.
 * </ul>
 */
public final class ProcessRestore {

    private static final Logger LOG = Logger.getLogger(ProcessRestore.class.getName());

    /**
     * A child an agent says it runs (pid 0: it ended, and the last supervisor may not have applied its
     * exit, which follows; one the records already show ended, or no longer know, is left alone).
     */
    public record AdoptedChild(String processId, int run, int pid) {}

    private final ProcessIndex index;
    private final ProcessRuns runs;
    private final ProcessStops stops;
    private final ProcessRecords kept;
    private final Clock clock;
    private final MemoryBudget memory;
    private final ServerEvents events;
    /** Restored records that were starting or running, until an agent claims them or the wait ends. */
    private final Map<String, ProcessRecord> unclaimed = new ConcurrentHashMap<>();
    private volatile boolean pending;

    ProcessRestore(ProcessIndex index, ProcessRuns runs, ProcessStops stops, ProcessRecords kept, Clock clock,
            MemoryBudget memory, ServerEvents events) {
        this.index = index;
        this.runs = runs;
        this.stops = stops;
        this.kept = kept;
        this.clock = clock;
        this.memory = memory;
        this.events = events;
    }

    /** Loads the kept records into the table (once, before the server listens); returns how many. */
    public int load() {
        List<StoredProcess> stored = kept.load();
        for (StoredProcess p : stored) {
            ProcessRecord rec = new ProcessRecord(p.getId(), p.getSeq(), ProcessRecords.decode(p.getSpec()),
                    Instant.ofEpochMilli(p.getCreatedAtMillis()), memory);
            rec.kept = kept;
            rec.events = events;
            rec.state = ProcessRecords.decode(p.getState());
            rec.run = p.getRun();
            rec.restartCount = p.getRestartCount();
            p.getRestartTimesMillisList().forEach(t -> rec.restartTimes.add(Instant.ofEpochMilli(t)));
            rec.stopRequested = p.getStopRequested();
            rec.pid = p.getPid();
            rec.runOutputStart = p.getRunOutputStart();
            rec.startedAt = p.hasStartedAtMillis() ? Instant.ofEpochMilli(p.getStartedAtMillis()) : null;
            rec.endedAt = p.hasEndedAtMillis() ? Instant.ofEpochMilli(p.getEndedAtMillis()) : null;
            rec.lineage = lineage(p);
            // Kept by the sessions' store too: it ends when this run ends, as before the restart.
            rec.childSession = p.getChildSession().isEmpty() || rec.state.isFinal() ? null : p.getChildSession();
            kept.loadOutput(rec); // before an agent's held output, which follows it
            index.restored(rec);
            switch (rec.state) {
                case ProcessState.Starting s -> unclaimed.put(rec.id, rec);
                case ProcessState.Running r -> unclaimed.put(rec.id, rec);
                case ProcessState.Backoff b -> runs.restartAt(rec, b.restartAt());
                default -> { }
            }
        }
        index.continueAfter(kept.lastDeleted());
        kept.keepOutputOf(stored.stream().map(StoredProcess::getId).collect(java.util.stream.Collectors.toSet()));
        pending = !unclaimed.isEmpty();
        if (!stored.isEmpty()) {
            LOG.info(() -> "restored " + stored.size() + " process records; " + unclaimed.size()
                    + " were running and wait for their agents");
        }
        return stored.size();
    }

    private static Lineage lineage(StoredProcess p) {
        Optional<Lineage> up = Optional.empty();
        for (int i = p.getAncestorsCount() - 1; i >= 0; i--) {
            up = Optional.of(new Lineage(p.getAncestors(i), up));
        }
        return new Lineage(p.getId(), up);
    }

    /** Whether some restored record still waits for its agent. */
    public boolean isPending() {
        return pending;
    }

    /** The agents the unclaimed records were running on. */
    public Set<String> awaitedAgents() {
        Set<String> out = new TreeSet<>();
        for (ProcessRecord rec : unclaimed.values()) {
            synchronized (rec) {
                agentOf(rec.state).ifPresent(out::add);
            }
        }
        return out;
    }

    /**
     * An agent of the previous supervisor re-registered, through {@code port}, with these children.
     *
     * @return how many it claimed (each holds a slot of the agent until it ends)
     */
    public int adopt(String agentId, AgentPort port, List<AdoptedChild> children) {
        int claimed = 0;
        for (AdoptedChild c : children) {
            // Its id was given, kept or not (a spawn the last supervisor died before committing):
            // new ids continue after it, so none names this child, nor its exit when sent again.
            index.continueAfterId(c.processId());
            if (claim(c.processId(), c.run(), c.pid(), agentId, port)) {
                claimed++;
            } else if (c.pid() > 0 && index.seqOf(c.processId()) == 0) {
                // A child no record knows (its spawn was not yet committed when the supervisor
                // died): nobody could see or stop it, so it does not run on.
                LOG.warning("agent " + agentId + " runs " + c.processId() + ", which no kept record knows: killed");
                port.signal(c.processId(), c.run(), ProcessStops.SIGKILL);
            }
        }
        return claimed;
    }

    /**
     * Claims one restored record for the agent reporting on its run; false if it is not one
     * waiting for that agent (then nothing changes).
     */
    public boolean claim(String processId, int run, int pid, String agentId, AgentPort port) {
        ProcessRecord rec = unclaimed.get(processId);
        if (rec == null) {
            return false;
        }
        List<Runnable> notify = List.of();
        synchronized (rec) {
            if (rec.agent != null || rec.run != run || !agentOf(rec.state).equals(Optional.of(agentId))) {
                return false;
            }
            rec.agent = port;
            if (rec.state instanceof ProcessState.Starting && pid > 0) {
                Instant now = clock.instant();
                notify = rec.transition(new ProcessState.Running(agentId, pid, now), now);
            }
            if (pid > 0 && rec.state instanceof ProcessState.Running r) {
                // Its --timeout counts from the run's start, not from this supervisor's.
                rec.spec.timeout().ifPresent(t -> stops.armTimeout(rec,
                        t.minus(java.time.Duration.between(r.startedAt(), clock.instant()))));
            }
            unclaimed.remove(processId, rec);
        }
        ProcessTable.runEach(notify);
        return true;
    }

    /** The wait for agents is over: what no agent claimed is lost, and its restart policy applies. */
    public void finish() {
        pending = false;
        List<ProcessRecord> left = new ArrayList<>(unclaimed.values());
        unclaimed.clear();
        for (ProcessRecord rec : left) {
            List<Runnable> notify = List.of();
            synchronized (rec) {
                if (rec.agent == null && !rec.state.isFinal()) {
                    String agent = agentOf(rec.state).orElse("none");
                    notify = runs.ended(rec, new ProcessState.Lost(rec.pid,
                            "its agent " + agent + " did not come back after the supervisor restarted", clock.instant()));
                }
            }
            ProcessTable.runEach(notify);
        }
        if (!left.isEmpty()) {
            LOG.warning(left.size() + " processes were not reported by any agent after the restart: lost");
        }
    }

    /** A restored process whose agent has not come back yet cannot be signalled or written to. */
    static void requireClaimed(ProcessRecord rec) {
        if (rec.agent == null && (rec.state instanceof ProcessState.Running)) {
            throw new ForkdException.Unavailable("NO_AGENT", "process \"" + rec.id
                    + "\" is waiting for its agent to come back after a supervisor restart");
        }
    }

    private static Optional<String> agentOf(ProcessState state) {
        return switch (state) {
            case ProcessState.Starting s -> Optional.of(s.agentId()).filter(a -> !a.isEmpty());
            case ProcessState.Running r -> Optional.of(r.agentId());
            default -> Optional.empty();
        };
    }
}
