package dev.forkd.server.shared;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.StateStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Named shared values, arrays, dicts and lists with atomic operations (multiprocessing's Value and
 * Array and a Manager's dict and list). One monitor guards it all: each operation is a map, list or
 * array update, far cheaper than the call that carries it. Every size is bounded and says which
 * bound it hit. Each kind's operations live in a class of their own; {@link SharedSpace} holds the
 * names and the one transition path, which also keeps every change in the {@link StateStore}.
 *
 * <p>A caller that answers a client does so once the change is kept: {@link #kept} gives the result
 * with the commit it must wait for. Watchers are told "changed" under the monitor and must only
 * schedule work (never block); they then read the state they want with {@link Watch#snapshot()}.
 */
public final class SharedStore {

    /** Bounds on what the store holds. */
    public record Limits(int maxNames, long maxScalarBytes, int maxDictEntries, int maxListLength,
            int maxArrayLength, long maxTotalBytes) {
        public static final Limits DEFAULT = new Limits(10_000, 1 << 20, 100_000, 100_000, 1_000_000, 256L << 20);
    }

    public enum Kind {
        VALUE("value"), DICT("dict"), LIST("list"), ARRAY("array");

        private final String words;

        Kind(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    public static final int MAX_KEY_LENGTH = 4096;
    public static final int MAX_PAGE = 10_000;

    private final SharedSpace space;
    private final SharedValues values;
    private final SharedDicts dicts;
    private final SharedLists lists;
    private final SharedArrays arrays;

    public SharedStore(Limits limits) {
        this(limits, MemoryBudget.unlimited());
    }

    /** A store whose bytes are also charged to the server's {@code memory} budget. */
    public SharedStore(Limits limits, MemoryBudget memory) {
        this(limits, memory, StateStore.none());
    }

    /**
     * A store that keeps every change in {@code store}, starting with what {@code store} holds (with
     * the revisions it had), charged again to {@code memory}.
     */
    public SharedStore(Limits limits, MemoryBudget memory, StateStore store) {
        this.space = new SharedSpace(limits, memory, store);
        this.values = new SharedValues(space);
        this.dicts = new SharedDicts(space);
        this.lists = new SharedLists(space);
        this.arrays = new SharedArrays(space);
        space.load();
    }

    public record Versioned(Scalar value, long version) {}

    public record Swap(boolean swapped, Optional<Scalar> current, long version) {}

    public record Resized(long size, long version) {}

    public record Removed(Optional<Scalar> value, long size) {}

    public record Page(List<Map.Entry<String, Scalar>> items, long size, Optional<String> nextAfter) {}

    public record Slice(List<Scalar> items, long length) {}

    public record Info(String name, Kind kind, long size, long version) {}

    /** What CreateArray answers: whether it made the array, and the array's length and version. */
    public record ArrayCreated(boolean created, long length, long version) {}

    /** Elements of an array, its length, its type (by its zero) and version. */
    public record ArraySlice(List<Scalar> items, long length, Scalar zero, long version) {}

    /**
     * An operation's result, and the commit after which it may be told: the commit of the change it
     * made, or for a read (or a refused compare-and-set), of every change it saw, so that no client
     * learns of a change a crash could still undo.
     */
    public record Kept<T>(T result, CompletableFuture<Void> committed) {}

    /** Runs {@code operation} (a call on this store) and answers its result with what it waits for. */
    public synchronized <T> Kept<T> kept(Supplier<T> operation) {
        T result = operation.get();
        return new Kept<>(result, space.lastWrite());
    }

    // ---- values ------------------------------------------------------------------------------

    public synchronized Versioned getValue(String name) {
        return values.get(name);
    }

    /** Sets a value, creating it with this type if new. */
    public synchronized long setValue(String name, Scalar value) {
        return values.set(name, value);
    }

    /** Sets the value to {@code value} only if it equals {@code expected}. */
    public synchronized Swap compareAndSetValue(String name, Scalar expected, Scalar value) {
        return values.compareAndSet(name, expected, value);
    }

    /** Atomically adds an int64 or double delta (creating the value as 0 of that type). */
    public synchronized Versioned addValue(String name, Scalar delta) {
        return values.add(name, delta);
    }

    // ---- dicts -------------------------------------------------------------------------------

    public synchronized Optional<Scalar> dictGet(String name, String key) {
        return dicts.get(name, key);
    }

    /** dict.update: all entries or none (every bound is checked first). */
    public synchronized Resized dictSet(String name, List<Map.Entry<String, Scalar>> items) {
        return dicts.set(name, items);
    }

    public synchronized Removed dictDelete(String name, String key) {
        return dicts.delete(name, key);
    }

    /** Sets {@code key} to {@code value} if it now equals {@code expected} (empty: is absent). */
    public synchronized Swap dictCompareAndSet(String name, String key, Optional<Scalar> expected, Scalar value) {
        return dicts.compareAndSet(name, key, expected, value);
    }

    /** Entries after {@code after} (exclusive) in key order, at most {@code pageSize}. */
    public synchronized Page dictItems(String name, int pageSize, Optional<String> after) {
        return dicts.items(name, pageSize, after);
    }

    // ---- lists -------------------------------------------------------------------------------

    /** append / extend: all items or none. */
    public synchronized long listAppend(String name, List<Scalar> items) {
        return lists.append(name, items);
    }

    public synchronized Scalar listGet(String name, long index) {
        return lists.get(name, index);
    }

    public synchronized void listSet(String name, long index, Scalar item) {
        lists.set(name, index, item);
    }

    /** Removes and answers an item (empty index: the last). */
    public synchronized Removed listPop(String name, Optional<Long> index) {
        return lists.pop(name, index);
    }

    /** Python's {@code l[start:stop]}. */
    public synchronized Slice listSlice(String name, Optional<Long> start, Optional<Long> stop) {
        return lists.slice(name, start, stop);
    }

    // ---- arrays ------------------------------------------------------------------------------

    /**
     * multiprocessing.Array: creates a fixed-length array of {@code zero}'s type, holding
     * {@code items} (exactly {@code length} of them; {@code length} may be 0 then) or zeros. An
     * existing array of that type and length is answered unchanged, whatever {@code items} say.
     */
    public synchronized ArrayCreated createArray(String name, Scalar zero, long length, List<Scalar> items) {
        return arrays.create(name, zero, length, items);
    }

    /** Python's {@code a[start:stop]}, at most {@link #MAX_PAGE} elements. */
    public synchronized ArraySlice arraySlice(String name, Optional<Long> start, Optional<Long> stop) {
        return arrays.slice(name, start, stop);
    }

    /** Python's {@code a[index]}. */
    public synchronized ArraySlice arrayGet(String name, long index) {
        return arrays.get(name, index);
    }

    /** {@code a[start:start+len(items)] = items}: all or none; the length never changes. */
    public synchronized long arraySet(String name, long start, List<Scalar> items) {
        return arrays.set(name, start, items);
    }

    /** Atomically adds an int64 or double delta to one element. */
    public synchronized Versioned arrayAdd(String name, long index, Scalar delta) {
        return arrays.add(name, index, delta);
    }

    // ---- names and watches -------------------------------------------------------------------

    public synchronized List<Info> list(Optional<Kind> kind) {
        return space.byName.values().stream().filter(c -> kind.isEmpty() || c.kind() == kind.get())
                .map(c -> new Info(c.name, c.kind(), c.size(), c.version)).toList();
    }

    public synchronized Kind delete(String name) {
        Cell c = space.require(name);
        space.removed(c);
        return c.kind();
    }

    /** What a watcher sees: the version, and the value, key or size it watches. */
    public record WatchState(long version, Optional<Scalar> value, boolean present, long size, boolean deleted) {}

    /** A registered watcher; {@link #close()} it when the stream ends. */
    public interface Watch extends AutoCloseable {
        WatchState snapshot();

        @Override
        void close();
    }

    /**
     * Watches a value, a dict (or one key of it), a list or an array; {@code changed} runs on every
     * change. A list or array is seen as its size and version (its items are read separately).
     */
    public synchronized Watch watch(String name, Optional<String> key, Runnable changed) {
        Cell c = space.require(name);
        if (key.isPresent() && !(c instanceof DictCell)) {
            throw new InvalidArgument("key", "applies only to a dict; \"" + name + "\" is a " + c.kind().words());
        }
        c.watchers.add(changed);
        return new Watch() {
            @Override
            public WatchState snapshot() {
                synchronized (SharedStore.this) {
                    if (space.byName.get(name) != c) {
                        return new WatchState(c.version, Optional.empty(), false, 0, true);
                    }
                    return switch (c) {
                        case ValueCell v -> new WatchState(v.version, Optional.of(v.value), true, 1, false);
                        case DictCell d -> key.isPresent()
                                ? new WatchState(d.version, Optional.ofNullable(d.entries.get(key.get())),
                                        d.entries.containsKey(key.get()), d.entries.size(), false)
                                : new WatchState(d.version, Optional.empty(), false, d.entries.size(), false);
                        case ListCell l -> new WatchState(l.version, Optional.empty(), false, l.items.size(), false);
                        case ArrayCell a -> new WatchState(a.version, Optional.empty(), false, a.items.length, false);
                    };
                }
            }

            @Override
            public void close() {
                c.watchers.remove(changed);
            }
        };
    }

    /** For tests and status: bytes held. */
    public synchronized long totalBytes() {
        return space.totalBytes();
    }
}
