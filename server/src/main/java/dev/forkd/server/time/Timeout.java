package dev.forkd.server.time;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * How long a wait, grace or back-off may last, taken from a request. A protobuf Duration may be up
 * to 10,000 years, but {@link Duration#toNanos()} overflows past about 292 years: a duration of
 * {@link #NO_LIMIT} or more therefore means "no limit", and this is the one place that decides it.
 * Whatever these methods return is safe to convert to nanoseconds and to add to any instant.
 */
public final class Timeout {

    /** From this length on (100 years, well under the 292 that nanoseconds hold) there is no limit. */
    public static final Duration NO_LIMIT = Duration.ofDays(36_525);

    private Timeout() {}

    /** The limit {@code d} sets: empty when it is so long that it means none. */
    public static Optional<Duration> limit(Duration d) {
        return isNoLimit(d) ? Optional.empty() : Optional.of(d);
    }

    /** A limit that may be absent (no limit), with "no limit" made explicit as empty. */
    public static Optional<Duration> limit(Optional<Duration> d) {
        return d.flatMap(Timeout::limit);
    }

    /** Whether {@code d} is so long that it means "no limit". */
    public static boolean isNoLimit(Duration d) {
        return d.compareTo(NO_LIMIT) >= 0;
    }

    /** {@code d}, saturated at {@link #NO_LIMIT}. */
    public static Duration capped(Duration d) {
        return isNoLimit(d) ? NO_LIMIT : d;
    }

    /** Nanoseconds of {@code d}, saturated at {@link #NO_LIMIT}'s: never overflows, never negative. */
    public static long nanos(Duration d) {
        return d.isNegative() ? 0 : capped(d).toNanos();
    }

    /**
     * Runs {@code onExpiry} on {@code timers} once {@code d} has passed; schedules nothing when
     * {@code d} means no limit (a timer for ever would only hold its waiter in memory).
     */
    public static Optional<ScheduledFuture<?>> schedule(ScheduledExecutorService timers, Duration d,
            Runnable onExpiry) {
        if (isNoLimit(d)) {
            return Optional.empty();
        }
        return Optional.of(timers.schedule(onExpiry, nanos(d), TimeUnit.NANOSECONDS));
    }
}
