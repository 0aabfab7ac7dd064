package dev.forkd.server.shared;

import static dev.forkd.server.shared.SharedRules.checkScalar;
import static dev.forkd.server.shared.SharedRules.clamp;

import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.ForkdException.ResourceExhausted;
import dev.forkd.server.error.FreeNames;
import dev.forkd.server.store.StoreWrite;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A Manager's list: append, index, set, pop, slice. Called under {@link SharedStore}'s monitor. */
final class SharedLists {

    private final SharedSpace space;

    SharedLists(SharedSpace space) {
        this.space = space;
    }

    /** append / extend: all items or none. */
    long append(String name, List<Scalar> items) {
        if (items.isEmpty()) {
            throw new InvalidArgument("items", "must hold at least one item");
        }
        long growth = 0;
        for (Scalar s : items) {
            checkScalar(space.limits(), "items", s);
            growth += s.size();
        }
        FreeNames.check(name);
        ListCell l;
        Cell c = space.byName.get(name);
        if (c == null) {
            space.newName();
            l = new ListCell(name);
        } else {
            l = SharedSpace.as(c, ListCell.class, SharedStore.Kind.LIST);
        }
        long max = space.limits().maxListLength();
        if ((long) l.items.size() + items.size() > max) {
            throw new ResourceExhausted("LIST_FULL", "list \"" + name + "\" would have "
                    + ((long) l.items.size() + items.size()) + " items (max " + max + ")");
        }
        space.account(growth);
        space.byName.putIfAbsent(name, l);
        List<StoreWrite> rows = new ArrayList<>(items.size());
        for (Scalar s : items) {
            rows.add(SharedRows.listItem(l, l.append(s), s));
        }
        space.changed(l, () -> rows);
        return l.items.size();
    }

    Scalar get(String name, long index) {
        ListCell l = space.cell(name, ListCell.class, SharedStore.Kind.LIST);
        return l.items.get(position(l, index));
    }

    void set(String name, long index, Scalar item) {
        checkScalar(space.limits(), "item", item);
        ListCell l = space.cell(name, ListCell.class, SharedStore.Kind.LIST);
        int i = position(l, index);
        space.account(item.size() - l.items.get(i).size());
        l.items.set(i, item);
        long row = l.rows.get(i);
        space.changed(l, () -> List.of(SharedRows.listItem(l, row, item)));
    }

    /** Removes and answers an item (empty index: the last). */
    SharedStore.Removed pop(String name, Optional<Long> index) {
        ListCell l = space.cell(name, ListCell.class, SharedStore.Kind.LIST);
        if (l.items.isEmpty()) {
            throw new FailedPrecondition("LIST_EMPTY", "list \"" + name + "\" is empty: nothing to pop");
        }
        int i = position(l, index.orElse(-1L));
        Scalar s = l.items.get(i);
        space.account(-s.size());
        long row = l.remove(i);
        space.changed(l, () -> List.of(new StoreWrite.Delete(SharedRows.listKind(l.name), SharedRows.listKey(row))));
        return new SharedStore.Removed(Optional.of(s), l.items.size());
    }

    /** Python's {@code l[start:stop]}. */
    SharedStore.Slice slice(String name, Optional<Long> start, Optional<Long> stop) {
        ListCell l = space.cell(name, ListCell.class, SharedStore.Kind.LIST);
        int n = l.items.size();
        int from = clamp(start.orElse(0L), n);
        int to = clamp(stop.orElse((long) n), n);
        if (to - from > SharedStore.MAX_PAGE) {
            throw new InvalidArgument("stop", "the slice has " + (to - from) + " items; ask for at most "
                    + SharedStore.MAX_PAGE);
        }
        SharedRules.requireReadableSlice(l.items.subList(Math.min(from, to), to));
        return new SharedStore.Slice(from >= to ? List.of() : List.copyOf(l.items.subList(from, to)), n);
    }

    private static int position(ListCell l, long index) {
        return SharedRules.position("index", index, l.items.size(), "list \"" + l.name + "\"");
    }
}
