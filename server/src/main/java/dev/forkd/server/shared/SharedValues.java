package dev.forkd.server.shared;

import static dev.forkd.server.shared.SharedRules.checkScalar;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.FreeNames;
import java.util.List;
import java.util.Optional;

/** multiprocessing.Value: get, set, compare-and-set and add. Called under {@link SharedStore}'s monitor. */
final class SharedValues {

    private final SharedSpace space;

    SharedValues(SharedSpace space) {
        this.space = space;
    }

    SharedStore.Versioned get(String name) {
        ValueCell v = space.cell(name, ValueCell.class, SharedStore.Kind.VALUE);
        return new SharedStore.Versioned(v.value, v.version);
    }

    long set(String name, Scalar value) {
        checkScalar(space.limits(), "value", value);
        ValueCell v = valueOrCreate(name, value);
        if (v.version > 0) {
            requireType(v, value, "value");
            space.account(value.size() - v.value.size());
            v.value = value;
        }
        return space.changed(v, List::of);
    }

    SharedStore.Swap compareAndSet(String name, Scalar expected, Scalar value) {
        checkScalar(space.limits(), "value", value);
        ValueCell v = space.cell(name, ValueCell.class, SharedStore.Kind.VALUE);
        requireType(v, expected, "expected");
        requireType(v, value, "value");
        if (!v.value.equals(expected)) {
            return new SharedStore.Swap(false, Optional.of(v.value), v.version);
        }
        space.account(value.size() - v.value.size());
        v.value = value;
        return new SharedStore.Swap(true, Optional.of(value), space.changed(v, List::of));
    }

    SharedStore.Versioned add(String name, Scalar delta) {
        Scalar zero = switch (delta) {
            case Scalar.Int64 i -> new Scalar.Int64(0);
            case Scalar.Float64 d -> new Scalar.Float64(0);
            default -> throw new InvalidArgument("delta", "must be an int64 or double, not " + delta.typeName());
        };
        ValueCell v = valueOrCreate(name, zero);
        requireType(v, delta, "delta");
        v.value = SharedRules.add(v.value, delta, () -> "value \"" + name + "\"");
        return new SharedStore.Versioned(v.value, space.changed(v, List::of));
    }

    /**
     * The value {@code name}, or a new one holding {@code initial} at revision 0 (in the table only:
     * the caller's change persists it).
     */
    private ValueCell valueOrCreate(String name, Scalar initial) {
        FreeNames.check(name);
        Cell c = space.byName.get(name);
        if (c == null) {
            space.newName();
            space.account(initial.size());
            ValueCell v = new ValueCell(name, initial);
            space.byName.put(name, v);
            return v;
        }
        return SharedSpace.as(c, ValueCell.class, SharedStore.Kind.VALUE);
    }

    private static void requireType(ValueCell v, Scalar s, String field) {
        SharedRules.requireType(v.name, "value", v.value, s, field);
    }
}
