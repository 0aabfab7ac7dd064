package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import java.time.Duration;

/** Checked conversions of well-known proto types. */
final class Protos {

    private Protos() {}

    /** A non-negative duration, or INVALID_ARGUMENT naming the field. */
    static Duration duration(String field, com.google.protobuf.Duration d) {
        if (d.getSeconds() < 0 || d.getNanos() < 0) {
            throw new InvalidArgument(field, "must not be negative");
        }
        if (d.getNanos() > 999_999_999 || d.getSeconds() > 315_576_000_000L) {
            throw new InvalidArgument(field, "is not a valid duration");
        }
        return Duration.ofSeconds(d.getSeconds(), d.getNanos());
    }
}
