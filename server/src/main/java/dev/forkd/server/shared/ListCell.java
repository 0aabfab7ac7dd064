package dev.forkd.server.shared;

import java.util.ArrayList;

/**
 * A Manager's list. Each item is kept in a row of its own under a sequence number that only grows
 * while the list has items, so the rows load in list order and a pop from the middle deletes one row
 * instead of renumbering the items after it.
 */
final class ListCell extends Cell {

    final ArrayList<Scalar> items = new ArrayList<>();
    /** The row of each item, parallel to {@link #items}, ascending. */
    final ArrayList<Long> rows = new ArrayList<>();
    long nextRow;

    ListCell(String name) {
        super(name);
    }

    @Override
    SharedStore.Kind kind() {
        return SharedStore.Kind.LIST;
    }

    @Override
    long size() {
        return items.size();
    }

    @Override
    long bytes() {
        return items.stream().mapToLong(Scalar::size).sum();
    }

    /** Appends {@code item} and answers its row. */
    long append(Scalar item) {
        long row = nextRow++;
        items.add(item);
        rows.add(row);
        return row;
    }

    /** Removes the item at {@code index} and answers its row. */
    long remove(int index) {
        items.remove(index);
        long row = rows.remove(index);
        if (items.isEmpty()) {
            nextRow = 0;
        }
        return row;
    }
}
