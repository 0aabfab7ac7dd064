package dev.forkd.server.shared;

import static dev.forkd.server.shared.SharedRules.checkScalar;
import static dev.forkd.server.shared.SharedRules.clamp;

import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.FreeNames;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** multiprocessing.Array: create, index, slice, set, add. Called under {@link SharedStore}'s monitor. */
final class SharedArrays {

    private final SharedSpace space;

    SharedArrays(SharedSpace space) {
        this.space = space;
    }

    /**
     * Creates a fixed-length array of {@code zero}'s type, holding {@code items} (exactly
     * {@code length} of them; {@code length} may be 0 then) or zeros. An existing array of that type
     * and length is answered unchanged, whatever {@code items} say.
     */
    SharedStore.ArrayCreated create(String name, Scalar zero, long length, List<Scalar> items) {
        FreeNames.check(name);
        long n = length == 0 && !items.isEmpty() ? items.size() : length;
        int max = space.limits().maxArrayLength();
        if (n < 1 || n > max) {
            throw new InvalidArgument("length", "must be between 1 and " + max + ", not " + n);
        }
        if (!items.isEmpty() && items.size() != n) {
            throw new InvalidArgument("items", "has " + items.size() + " items for an array of length " + n
                    + "; give all of them or none");
        }
        Cell c = space.byName.get(name);
        if (c != null) {
            ArrayCell a = SharedSpace.as(c, ArrayCell.class, SharedStore.Kind.ARRAY);
            if (!a.zero.sameType(zero) || a.items.length != n) {
                throw new FailedPrecondition("ARRAY_MISMATCH", "array \"" + name + "\" holds " + a.items.length + " "
                        + a.zero.typeName() + "; asked for " + n + " " + zero.typeName(),
                        Map.of("name", name, "type", a.zero.typeName(), "length", Long.toString(a.items.length)));
            }
            return new SharedStore.ArrayCreated(false, a.items.length, a.version);
        }
        Scalar[] slots = new Scalar[(int) n];
        long bytes;
        if (items.isEmpty()) {
            Arrays.fill(slots, zero);
            bytes = zero.size() * n;
        } else {
            bytes = 0;
            for (int i = 0; i < slots.length; i++) {
                Scalar s = items.get(i);
                checkScalar(space.limits(), "items", s);
                if (!zero.sameType(s)) {
                    throw new InvalidArgument("items", "item " + i + " is " + s.typeName() + "; the array's type is "
                            + zero.typeName());
                }
                slots[i] = s;
                bytes += s.size();
            }
        }
        space.newName();
        space.account(bytes);
        ArrayCell a = new ArrayCell(name, zero, slots);
        space.created(a, () -> SharedRows.chunks(a, 0, slots.length));
        return new SharedStore.ArrayCreated(true, n, a.version);
    }

    /** Python's {@code a[start:stop]}, at most {@link SharedStore#MAX_PAGE} elements. */
    SharedStore.ArraySlice slice(String name, Optional<Long> start, Optional<Long> stop) {
        ArrayCell a = space.cell(name, ArrayCell.class, SharedStore.Kind.ARRAY);
        int n = a.items.length;
        int from = clamp(start.orElse(0L), n);
        int to = clamp(stop.orElse((long) n), n);
        if (to - from > SharedStore.MAX_PAGE) {
            throw new InvalidArgument("stop", "the slice has " + (to - from) + " elements; ask for at most "
                    + SharedStore.MAX_PAGE);
        }
        SharedRules.requireReadableSlice(Arrays.asList(a.items).subList(Math.min(from, to), to));
        List<Scalar> items = from >= to ? List.of() : List.of(Arrays.copyOfRange(a.items, from, to));
        return new SharedStore.ArraySlice(items, n, a.zero, a.version);
    }

    /** Python's {@code a[index]}. */
    SharedStore.ArraySlice get(String name, long index) {
        ArrayCell a = space.cell(name, ArrayCell.class, SharedStore.Kind.ARRAY);
        return new SharedStore.ArraySlice(List.of(a.items[position(a, index, "index")]), a.items.length, a.zero,
                a.version);
    }

    /** {@code a[start:start+len(items)] = items}: all or none; the length never changes. */
    long set(String name, long start, List<Scalar> items) {
        if (items.isEmpty()) {
            throw new InvalidArgument("items", "must hold at least one item");
        }
        ArrayCell a = space.cell(name, ArrayCell.class, SharedStore.Kind.ARRAY);
        int from = position(a, start, "start");
        if ((long) from + items.size() > a.items.length) {
            throw new InvalidArgument("items", items.size() + " items from index " + from
                    + " run past the end of array \"" + name + "\" of length " + a.items.length
                    + " (an array's length never changes)");
        }
        long growth = 0;
        for (int i = 0; i < items.size(); i++) {
            Scalar s = items.get(i);
            checkScalar(space.limits(), "items", s);
            SharedRules.requireType(a.name, "array", a.zero, s, "items[" + i + "]");
            growth += s.size() - a.items[from + i].size();
        }
        space.account(growth);
        for (int i = 0; i < items.size(); i++) {
            a.items[from + i] = items.get(i);
        }
        return space.changed(a, () -> SharedRows.chunks(a, from, from + items.size()));
    }

    /** Atomically adds an int64 or double delta to one element. */
    SharedStore.Versioned add(String name, long index, Scalar delta) {
        if (!(delta instanceof Scalar.Int64 || delta instanceof Scalar.Float64)) {
            throw new InvalidArgument("delta", "must be an int64 or double, not " + delta.typeName());
        }
        ArrayCell a = space.cell(name, ArrayCell.class, SharedStore.Kind.ARRAY);
        SharedRules.requireType(a.name, "array", a.zero, delta, "delta");
        int i = position(a, index, "index");
        Scalar sum = SharedRules.add(a.items[i], delta, () -> "element " + i + " of array \"" + name + "\"");
        a.items[i] = sum;
        return new SharedStore.Versioned(sum, space.changed(a, () -> SharedRows.chunks(a, i, i + 1)));
    }

    private static int position(ArrayCell a, long index, String field) {
        return SharedRules.position(field, index, a.items.length, "array \"" + a.name + "\"");
    }
}
