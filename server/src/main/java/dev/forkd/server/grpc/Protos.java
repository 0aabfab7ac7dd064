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
}
