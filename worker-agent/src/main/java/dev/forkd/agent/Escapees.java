package dev.forkd.agent;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import dev.forkd.posix.Posix;
import dev.forkd.posix.ProcChildren;

/**
 * Ends the descendants that escaped their child's process group (setsid, setpgid, a double fork)
 * and were reparented to the agent, a child subreaper. Such an orphan's parent has ended, so it
 * belongs to no running process: it gets SIGTERM (its own group too, if it leads one), then
 * SIGKILL after {@link #GRACE} if it is still an orphan here.
 *
 * <p>The kernel gives no event when an orphan is reparented, so the agent looks when it has a
 * reason to: after every child it reaps (an exit is what makes orphans) and when it stops. An
 * orphan whose parent was not the agent's child is thus found at the next exit of any child on the
 * agent, or at the latest when the agent stops.
 */
final class Escapees {
    /** How long an orphan has between SIGTERM and SIGKILL. */
    static final Duration GRACE = Duration.ofSeconds(1);
    private static final int SIGKILL = 9;
    private static final int SIGTERM = 15;

    private final Posix posix;
    private final ChildTable table;
    private final ScheduledExecutorService timer;
    private final IntFunction<List<Integer>> childrenOf;
    private final int self;
    /** Orphans already sent SIGTERM and waiting for their SIGKILL; bounded by the agent's children. */
    private final Set<Integer> warned = new HashSet<>();

    /** @param childrenOf the children of a pid (the agent's own pid is asked for) */
    Escapees(Posix posix, ChildTable table, ScheduledExecutorService timer,
            IntFunction<List<Integer>> childrenOf, int self) {
        this.posix = posix;
        this.table = table;
        this.timer = timer;
        this.childrenOf = childrenOf;
        this.self = self;
    }

    /**
     * After a child was reaped: SIGTERM to each new orphan, SIGKILL after the grace. Our children
     * are read and signalled under the table's lock: a child being spawned is in the table before
     * the lock is free, and an orphan is reaped only under it, so only live orphans are signalled.
     */
    void sweep() {
        List<Integer> warnedNow = new java.util.ArrayList<>();
        synchronized (table) {
            for (int pid : childrenOf.apply(self)) {
                if (table.byPid(pid).isEmpty() && warned.add(pid)) {
                    signal(pid, SIGTERM);
                    warnedNow.add(pid);
                }
            }
        }
        for (int pid : warnedNow) {
            timer.schedule(() -> killIfStillOrphan(pid), GRACE.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** When the agent stops: SIGKILL to every orphan now (its children were given their grace). */
    void killAll() {
        synchronized (table) {
            for (int pid : childrenOf.apply(self)) {
                if (table.byPid(pid).isEmpty()) {
                    signal(pid, SIGKILL);
                }
            }
        }
    }

    private void killIfStillOrphan(int pid) {
        synchronized (table) {
            warned.remove(pid);
            if (table.byPid(pid).isEmpty() && childrenOf.apply(self).contains(pid)) {
                signal(pid, SIGKILL);
            }
        }
    }

    private void signal(int pid, int signal) {
        // While it is our child, even as a zombie, its pid cannot be reused: so can neither a
        // group it leads (a live process's pid is never another group's id).
        if (ProcChildren.groupOf(pid) == pid) {
            posix.kill(-pid, signal);
        }
        posix.kill(pid, signal);
    }
}
