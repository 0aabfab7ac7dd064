package dev.forkd.server.shared;

import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.memory.ReplySize;
import java.util.List;
import java.util.Map;

/** The checks every kind of shared object makes of what it is given. */
final class SharedRules {

    private SharedRules() {}

    static void checkScalar(SharedStore.Limits limits, String field, Scalar s) {
        if (s.size() > limits.maxScalarBytes()) {
            throw new InvalidArgument(field, "is " + s.size() + " bytes; at most " + limits.maxScalarBytes()
                    + " bytes per value");
        }
    }

    static void checkKey(String key) {
        if (key.length() > SharedStore.MAX_KEY_LENGTH) {
            throw new InvalidArgument("key", "must be at most " + SharedStore.MAX_KEY_LENGTH + " characters");
        }
    }

    static void requireType(String name, String kind, Scalar held, Scalar s, String field) {
        if (!held.sameType(s)) {
            throw new FailedPrecondition("TYPE_MISMATCH", kind + " \"" + name + "\" holds " + held.typeName()
                    + "; " + field + " is " + s.typeName(), Map.of("name", name, "type", held.typeName()));
        }
    }

    /** {@code cur + delta}, both int64 or both double; int64 overflow is refused. */
    static Scalar add(Scalar cur, Scalar delta, java.util.function.Supplier<String> what) {
        return switch (delta) {
            case Scalar.Int64 d -> {
                long c = ((Scalar.Int64) cur).value();
                try {
                    yield new Scalar.Int64(Math.addExact(c, d.value()));
                } catch (ArithmeticException e) {
                    throw new FailedPrecondition("INT64_OVERFLOW", "adding " + d.value() + " to " + what.get()
                            + " (" + c + ") overflows int64; it is unchanged");
                }
            }
            case Scalar.Float64 d -> new Scalar.Float64(((Scalar.Float64) cur).value() + d.value());
            default -> throw new IllegalStateException();
        };
    }

    /** Python's slice bound {@code i} in a sequence of {@code n}. */
    static int clamp(long i, int n) {
        long j = i < 0 ? i + n : i;
        return (int) Math.max(0, Math.min(n, j));
    }

    /** Python's index {@code index} in a sequence of {@code n}, which must be in range. */
    static int position(String field, long index, int n, String what) {
        long i = index < 0 ? index + n : index;
        if (i < 0 || i >= n) {
            throw new InvalidArgument(field, index + " is out of range for " + what + " of length " + n);
        }
        return (int) i;
    }

    /** A slice must fit one reply a default client reads (a slice has no page token to go on with). */
    static void requireReadableSlice(List<Scalar> slice) {
        long bytes = 0;
        for (Scalar s : slice) {
            bytes += s.size();
        }
        if (bytes > ReplySize.MAX_BATCH_BYTES) {
            throw new InvalidArgument("stop", "the slice holds " + bytes + " bytes; a reply holds at most "
                    + ReplySize.MAX_BATCH_BYTES + " (what any gRPC client reads): ask for fewer items");
        }
    }
}
