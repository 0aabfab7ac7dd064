package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.time.Timeout;
import java.time.Duration;
import java.util.Optional;

/** Checked conversions of well-known proto types. */
final class Protos {

    private Protos() {}

    /**
     * A non-negative duration, or INVALID_ARGUMENT naming the field. Every valid proto Duration is
     * accepted; one of {@link Timeout#NO_LIMIT} or more comes back as exactly that, so nothing a
     * request holds can overflow a conversion to nanoseconds further in.
     */
    static Duration duration(String field, com.google.protobuf.Duration d) {
        if (d.getSeconds() < 0 || d.getNanos() < 0) {
            throw new InvalidArgument(field, "must not be negative");
        }
        if (d.getNanos() > 999_999_999 || d.getSeconds() > 315_576_000_000L) {
            throw new InvalidArgument(field, "is not a valid duration (at most 315576000000 s)");
        }
        return Timeout.capped(Duration.ofSeconds(d.getSeconds(), d.getNanos()));
    }

    /**
     * The limit of a wait: empty when the request has none, or one so long that it means none
     * ({@link Timeout#NO_LIMIT} or more); else as {@link #duration}.
     */
    static Optional<Duration> timeout(String field, boolean has, com.google.protobuf.Duration d) {
        return has ? Timeout.limit(duration(field, d)) : Optional.empty();
    }

    /** A valid timestamp (0001-01-01 to 9999-12-31, nanos 0-999,999,999), or INVALID_ARGUMENT naming the field. */
    static java.time.Instant timestamp(String field, com.google.protobuf.Timestamp t) {
        if (t.getSeconds() < -62_135_596_800L || t.getSeconds() > 253_402_300_799L
                || t.getNanos() < 0 || t.getNanos() > 999_999_999) {
            throw new InvalidArgument(field, "is not a valid timestamp (years 1 to 9999, nanos 0 to 999999999)");
        }
        return java.time.Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }
}
