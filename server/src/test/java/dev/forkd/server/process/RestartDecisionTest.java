package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestartDecisionTest {

    private static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
    private static final ProcessState FAILED = new ProcessState.Exited(1, 1, NOW);
    private static final ProcessState OK = new ProcessState.Exited(1, 0, NOW);

    private static RestartSpec spec(RestartSpec.Policy p) {
        return new RestartSpec(p, Duration.ofMillis(100), Duration.ofSeconds(2), 3, Duration.ofSeconds(60));
    }

    @Test
    void neverPolicyNeverRestarts() {
        assertInstanceOf(RestartDecision.NoRestart.class,
                RestartDecision.decide(spec(RestartSpec.Policy.NEVER), FAILED, false, List.of(), NOW, () -> 0.5));
    }

    @Test
    void onFailureRestartsFailuresOnly() {
        assertInstanceOf(RestartDecision.RestartAfter.class,
                RestartDecision.decide(spec(RestartSpec.Policy.ON_FAILURE), FAILED, false, List.of(), NOW, () -> 0.5));
        assertInstanceOf(RestartDecision.NoRestart.class,
                RestartDecision.decide(spec(RestartSpec.Policy.ON_FAILURE), OK, false, List.of(), NOW, () -> 0.5));
        assertInstanceOf(RestartDecision.RestartAfter.class, RestartDecision.decide(
                spec(RestartSpec.Policy.ON_FAILURE), new ProcessState.Signaled(1, 9, NOW), false, List.of(), NOW, () -> 0.5));
    }

    @Test
    void aClientStopIsNeverRestarted() {
        assertInstanceOf(RestartDecision.NoRestart.class,
                RestartDecision.decide(spec(RestartSpec.Policy.ALWAYS), FAILED, true, List.of(), NOW, () -> 0.5));
    }

    @Test
    void backoffDoublesWithJitterAndIsCapped() {
        List<Instant> history = new ArrayList<>();
        long[] maxExpected = {100, 200, 400};
        for (long max : maxExpected) {
            var lo = (RestartDecision.RestartAfter) RestartDecision.decide(spec(RestartSpec.Policy.ALWAYS), OK, false, history, NOW, () -> 0.0);
            var hi = (RestartDecision.RestartAfter) RestartDecision.decide(spec(RestartSpec.Policy.ALWAYS), OK, false, history, NOW, () -> 0.999999);
            assertEquals(max / 2, lo.delay().toMillis());
            assertTrue(hi.delay().toMillis() <= max && hi.delay().toMillis() >= max - 1, hi.toString());
            history.add(NOW.minusSeconds(1));
        }
        var capSpec = new RestartSpec(RestartSpec.Policy.ALWAYS, Duration.ofSeconds(1), Duration.ofSeconds(2), 100, Duration.ofSeconds(60));
        List<Instant> many = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            many.add(NOW.minusSeconds(1));
        }
        var capped = (RestartDecision.RestartAfter) RestartDecision.decide(capSpec, OK, false, many, NOW, () -> 0.999999);
        assertTrue(capped.delay().toMillis() <= 2000);
    }

    @Test
    void tooManyRestartsInTheWindowGivesUp() {
        List<Instant> three = List.of(NOW.minusSeconds(3), NOW.minusSeconds(2), NOW.minusSeconds(1));
        assertInstanceOf(RestartDecision.GiveUp.class,
                RestartDecision.decide(spec(RestartSpec.Policy.ALWAYS), FAILED, false, three, NOW, () -> 0.5));
        // Restarts older than the window do not count.
        List<Instant> old = List.of(NOW.minusSeconds(300), NOW.minusSeconds(200), NOW.minusSeconds(100));
        assertInstanceOf(RestartDecision.RestartAfter.class,
                RestartDecision.decide(spec(RestartSpec.Policy.ALWAYS), FAILED, false, old, NOW, () -> 0.5));
    }
}
