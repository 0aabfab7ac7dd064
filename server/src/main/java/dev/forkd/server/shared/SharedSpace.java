package dev.forkd.server.shared;

import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.NotFound;
import dev.forkd.server.error.ForkdException.ResourceExhausted;
import dev.forkd.server.error.FreeNames;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The names, the byte accounting and the one transition path of the shared objects. Every change
 * to an object ends in {@link #changed}, {@link #created} or {@link #removed}, which bump its
 * revision, hand its rows to the state store and tell its watchers, so the three cannot disagree.
 * Called only under {@link SharedStore}'s monitor.
 */
final class SharedSpace {

    private final SharedStore.Limits limits;
    private final MemoryBudget memory;
    private final StateStore store;
    final Map<String, Cell> byName = new TreeMap<>();
    private long totalBytes;
    /**
     * The last write handed to the store. The store commits in the order it is given writes, so once
     * this is committed, so is every change made before it.
     */
    private CompletableFuture<Void> lastWrite = CompletableFuture.completedFuture(null);

    SharedSpace(SharedStore.Limits limits, MemoryBudget memory, StateStore store) {
        this.limits = limits;
        this.memory = memory;
        this.store = store;
    }

    SharedStore.Limits limits() {
        return limits;
    }

    long totalBytes() {
        return totalBytes;
    }

    /** Completes once every change made so far is committed (at once without a store). */
    CompletableFuture<Void> lastWrite() {
        return lastWrite;
    }

    // ---- the transition path -----------------------------------------------------------------

    /**
     * {@code c} changed: its revision goes up, its header and {@code rows} (what changed in it) go to
     * the store, and its watchers are told. Answers the new revision.
     */
    long changed(Cell c, Supplier<List<StoreWrite>> rows) {
        c.version++;
        persist(c, rows);
        c.watchers.forEach(Runnable::run);
        return c.version;
    }

    /** {@code c} is new, at revision 0, holding what {@code rows} say (an array's slots). */
    void created(Cell c, Supplier<List<StoreWrite>> rows) {
        byName.put(c.name, c);
        persist(c, rows);
    }

    /** {@code c} is gone, with its rows; its watchers see it deleted. */
    void removed(Cell c) {
        byName.remove(c.name);
        account(-c.bytes());
        c.version++;
        if (store.keeps()) {
            lastWrite = store.write(SharedRows.removal(c));
        }
        c.watchers.forEach(Runnable::run);
    }

    private void persist(Cell c, Supplier<List<StoreWrite>> rows) {
        if (!store.keeps()) {
            return;
        }
        List<StoreWrite> more = rows.get();
        List<StoreWrite> writes = new ArrayList<>(more.size() + 1);
        writes.add(SharedRows.header(c));
        writes.addAll(more);
        lastWrite = store.write(writes);
    }

    // ---- start-up ----------------------------------------------------------------------------

    /**
     * Loads every object the store holds, with its revision, and charges its bytes again. What was
     * kept is held even past a bound lowered since, except the memory budget: a server that cannot
     * hold its state does not start.
     */
    void load() {
        for (StoreRow header : store.load(SharedRows.NAMES)) {
            Cell c = SharedRows.readHeader(header.key(), header.value());
            switch (c) {
                case ValueCell v -> {
                }
                case DictCell d -> store.load(SharedRows.dictKind(d.name)).forEach(r ->
                        d.entries.put(r.key(), SharedRows.readScalar(d.name, r.value())));
                case ListCell l -> {
                    for (StoreRow r : store.load(SharedRows.listKind(l.name))) {
                        l.items.add(SharedRows.readScalar(l.name, r.value()));
                        l.rows.add(Long.parseLong(r.key(), 16));
                    }
                    l.nextRow = l.rows.isEmpty() ? 0 : l.rows.getLast() + 1;
                }
                case ArrayCell a -> store.load(SharedRows.arrayKind(a.name)).forEach(r ->
                        SharedRows.readChunk(a, r.key(), r.value()));
            }
            long bytes = c.bytes();
            if (!memory.tryReserve(bytes)) {
                throw new StoreException("the shared state in the state store needs " + bytes + " more bytes than "
                        + MemoryBudget.FLAG + " leaves (" + memory.available() + " bytes): raise it, or start with --fresh");
            }
            totalBytes += bytes;
            byName.put(c.name, c);
        }
    }

    // ---- names and bytes ---------------------------------------------------------------------

    Cell require(String name) {
        FreeNames.check(name);
        Cell c = byName.get(name);
        if (c == null) {
            throw new NotFound("shared object", name);
        }
        return c;
    }

    <T extends Cell> T cell(String name, Class<T> type, SharedStore.Kind kind) {
        return as(require(name), type, kind);
    }

    static <T extends Cell> T as(Cell c, Class<T> type, SharedStore.Kind kind) {
        if (!type.isInstance(c)) {
            throw new FailedPrecondition("WRONG_KIND", "\"" + c.name + "\" is a " + c.kind().words() + ", not a "
                    + kind.words(), Map.of("name", c.name, "kind", c.kind().name()));
        }
        return type.cast(c);
    }

    /** Refuses a new name when the table is full. */
    void newName() {
        if (byName.size() >= limits.maxNames()) {
            throw new ResourceExhausted("TOO_MANY_SHARED_OBJECTS", "there are already " + byName.size()
                    + " shared values, arrays, dicts and lists (max " + limits.maxNames() + ")");
        }
    }

    /**
     * Charges a change in size to the store's bound and the server's budget, or refuses it. Every
     * caller calls it before it changes anything, so a refusal leaves the store as it was.
     */
    void account(long delta) {
        if (delta > 0 && totalBytes + delta > limits.maxTotalBytes()) {
            throw new ResourceExhausted("SHARED_STORE_FULL", "shared state would hold " + (totalBytes + delta)
                    + " bytes (max " + limits.maxTotalBytes() + ")");
        }
        if (delta > 0) {
            memory.reserve(delta, "shared state");
        } else {
            memory.release(-delta);
        }
        totalBytes += delta;
    }
}
