package dev.forkd.agent;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.forkd.posix.Posix;

/** Signals children's process groups: one on request, or all of them to end the agent. */
final class ChildSignals {
    static final int SIGKILL = 9;
    static final int SIGTERM = 15;
    private static final int MAX_SIGNAL = 64;

    private final Posix posix;
    private final ChildTable table;
    private final ScheduledExecutorService timer;
    private final Escapees escapees;

    ChildSignals(Posix posix, ChildTable table, ScheduledExecutorService timer, Escapees escapees) {
        this.posix = posix;
        this.table = table;
        this.timer = timer;
        this.escapees = escapees;
    }

    /** SignalChild: the whole group; nothing happens if the child has already ended or is unknown. */
    void signal(ChildKey key, int signal) {
        if (signal < 0 || signal > MAX_SIGNAL) {
            return;
        }
        table.byKey(key).ifPresent(child -> signalGroup(child, signal));
    }

    /**
     * Refuses new children, sends SIGTERM to every group, SIGKILL to those still running after the
     * grace; completes once every child's ChildExited has been sent, and every orphan that escaped
     * a child's group has been sent SIGKILL: nothing the agent ran outlives it.
     */
    CompletableFuture<Void> endAll(Duration grace) {
        CompletableFuture<Void> drained = table.close();
        table.all().forEach(child -> signalGroup(child, SIGTERM));
        escapees.sweep();
        if (!drained.isDone()) {
            var kill = timer.schedule(this::killAll, grace.toMillis(), TimeUnit.MILLISECONDS);
            drained.whenComplete((ok, failed) -> kill.cancel(false));
        }
        return drained.thenRun(escapees::killAll);
    }

    /**
     * SIGKILL to every group still running and every escaped orphan (also the JVM shutdown hook:
     * nothing the agent ran outlives it).
     */
    void killAll() {
        table.all().forEach(child -> signalGroup(child, SIGKILL));
        escapees.killAll();
    }

    private void signalGroup(Child child, int signal) {
        // After the leader ended the reaper has killed the group already; its id may be reused.
        if (!child.ended()) {
            posix.kill(-child.pid(), signal);
        }
    }
}
