package dev.forkd.server.process;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.DoubleSupplier;

/** What to do when a run ends: the restart policy as one pure function. */
public sealed interface RestartDecision {

    /** The run's end is final. */
    record NoRestart() implements RestartDecision {}

    /** Start again after {@code delay}. */
    record RestartAfter(Duration delay) implements RestartDecision {}

    /** Restarted too often within the window: the process becomes FATAL. */
    record GiveUp(String cause) implements RestartDecision {}

    /**
     * @param ended how the run ended
     * @param stoppedByClient a client terminated or killed it: never restarted
     * @param recentRestarts when earlier restarts happened (any age; those outside the window are ignored)
     * @param random a number in [0, 1) for jitter
     */
    static RestartDecision decide(RestartSpec spec, ProcessState ended, boolean stoppedByClient,
            List<Instant> recentRestarts, Instant now, DoubleSupplier random) {
        if (stoppedByClient || spec.policy() == RestartSpec.Policy.NEVER) {
            return new NoRestart();
        }
        boolean failed = !(ended instanceof ProcessState.Exited e && e.exitCode() == 0);
        if (spec.policy() == RestartSpec.Policy.ON_FAILURE && !failed) {
            return new NoRestart();
        }
        Instant windowStart = now.minus(spec.window());
        long inWindow = recentRestarts.stream().filter(t -> t.isAfter(windowStart)).count();
        if (inWindow >= spec.maxRestarts()) {
            return new GiveUp("restarted " + inWindow + " times within " + spec.window().toSeconds()
                    + "s (max_restarts " + spec.maxRestarts() + ")");
        }
        // Exponential back-off with "equal jitter": half fixed, half random, capped (DESIGN.md §5).
        long base = spec.initialBackoff().toMillis();
        long exp = base << Math.min(30, inWindow);
        long capped = Math.min(spec.maxBackoff().toMillis(), exp < 0 ? Long.MAX_VALUE : exp);
        long delay = capped / 2 + (long) (random.getAsDouble() * (capped - capped / 2));
        return new RestartAfter(Duration.ofMillis(delay));
    }
}
