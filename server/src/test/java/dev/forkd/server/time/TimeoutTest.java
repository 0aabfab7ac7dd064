package dev.forkd.server.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The one place that decides what a huge duration means. */
class TimeoutTest {

    /** The largest proto Duration, and 2^63 ns. */
    private static final Duration MAX_PROTO = Duration.ofSeconds(315_576_000_000L, 999_999_999);
    private static final Duration TWO_TO_63_NANOS = Duration.ofSeconds(9_223_372_036L, 854_775_808);

    @Test
    void aDurationOfAHundredYearsOrMoreIsNoLimit() {
        assertEquals(Optional.empty(), Timeout.limit(MAX_PROTO));
        assertEquals(Optional.empty(), Timeout.limit(TWO_TO_63_NANOS));
        assertEquals(Optional.empty(), Timeout.limit(Timeout.NO_LIMIT));
        Duration justUnder = Timeout.NO_LIMIT.minusNanos(1);
        assertEquals(Optional.of(justUnder), Timeout.limit(justUnder));
        assertEquals(Optional.of(Duration.ZERO), Timeout.limit(Duration.ZERO));
    }

    @Test
    void whatItReturnsNeverOverflows() {
        for (Duration d : new Duration[] {MAX_PROTO, TWO_TO_63_NANOS, Timeout.NO_LIMIT}) {
            assertEquals(Timeout.NO_LIMIT, Timeout.capped(d));
            assertEquals(Timeout.NO_LIMIT.toNanos(), Timeout.nanos(d));
            Instant.now().plus(Timeout.capped(d)); // no DateTimeException or ArithmeticException
        }
        assertEquals(0, Timeout.nanos(Duration.ofSeconds(-1)));
    }

    @Test
    void noLimitSchedulesNothingAndAFiniteLimitSchedules() throws Exception {
        var timers = Executors.newSingleThreadScheduledExecutor();
        try {
            assertTrue(Timeout.schedule(timers, MAX_PROTO, () -> {}).isEmpty());
            var latch = new java.util.concurrent.CountDownLatch(1);
            assertTrue(Timeout.schedule(timers, Duration.ofMillis(1), latch::countDown).isPresent());
            assertTrue(latch.await(30, TimeUnit.SECONDS));
        } finally {
            timers.shutdownNow();
        }
    }
}
