package dev.forkd.server.shared;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One named shared object as the server holds it: its revision ({@code version}, which watches and
 * compare-and-set see, and which goes on across a restart) and who watches it. Only
 * {@link SharedSpace} changes the revision, in its one transition path.
 */
abstract sealed class Cell permits ValueCell, DictCell, ListCell, ArrayCell {

    final String name;
    long version;
    final List<Runnable> watchers = new CopyOnWriteArrayList<>();

    Cell(String name) {
        this.name = name;
    }

    abstract SharedStore.Kind kind();

    /** Elements: 1 for a value, entries, items or slots. */
    abstract long size();

    /** What it counts against the store's byte bound and the server's memory budget. */
    abstract long bytes();
}
