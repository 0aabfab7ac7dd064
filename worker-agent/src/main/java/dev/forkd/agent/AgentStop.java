package dev.forkd.agent;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How the agent ends: on AgentShutdown, or when no supervisor is left to report to (the orphan grace
 * ran out, or a supervisor refused it). Either way every child group gets SIGTERM, then SIGKILL after
 * a grace, and the agent exits only once all children are reaped. Children never run unseen for
 * longer than the orphan grace.
 */
final class AgentStop {
    /** The grace children get when the supervisor is gone and cannot choose one. */
    static final Duration GRACE_WITHOUT_SUPERVISOR = Duration.ofSeconds(2);

    private final ChildSignals signals;
    private final SupervisorLink link;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CompletableFuture<Integer> exitCode = new CompletableFuture<>();

    AgentStop(ChildSignals signals, SupervisorLink link) {
        this.signals = signals;
        this.link = link;
    }

    /** AgentShutdown: end the children, report them, then complete the stream and exit 0. */
    void shutdownRequested(Duration grace) {
        if (stopping.compareAndSet(false, true)) {
            signals.endAll(grace).thenRun(() -> {
                link.complete();
                exitCode.complete(0);
            });
        }
    }

    /** Whether the agent is stopping (told to, or given up). */
    boolean isStopping() {
        return stopping.get();
    }

    /** No supervisor is left: exits 0 if the last one completed the stream, else 1. */
    void supervisorGone(boolean clean) {
        if (stopping.compareAndSet(false, true)) {
            signals.endAll(GRACE_WITHOUT_SUPERVISOR).thenRun(() -> exitCode.complete(clean ? 0 : 1));
        }
    }

    /** Completes with the process exit code once every child has been reaped and reported. */
    CompletableFuture<Integer> exitCode() {
        return exitCode;
    }
}
