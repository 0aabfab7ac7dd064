package dev.forkd.server.shared;

import dev.forkd.server.error.FreeNames;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.memory.ReplySize;
import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.ForkdException.NotFound;
import dev.forkd.server.error.ForkdException.ResourceExhausted;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Named shared values, arrays, dicts and lists with atomic operations (multiprocessing's Value and
 * Array and a Manager's dict and list). One monitor guards it all: each operation is a map, list or
 * array update, far cheaper than the call that carries it. Every size is bounded and says which bound it hit.
 *
 * <p>Watchers are told "changed" under the monitor and must only schedule work (never block);
 * they then read the state they want with {@link Watch#snapshot()}.
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

    private final Limits limits;
    private final MemoryBudget memory;
    private final Map<String, Cell> byName = new TreeMap<>();
    private long totalBytes;

    public SharedStore(Limits limits) {
        this(limits, MemoryBudget.unlimited());
    }

    /** A store whose bytes are also charged to the server's {@code memory} budget. */
    public SharedStore(Limits limits, MemoryBudget memory) {
        this.limits = limits;
        this.memory = memory;
    }

    private abstract static sealed class Cell permits ValueCell, DictCell, ListCell, ArrayCell {
        final String name;
        long version;
        final List<Runnable> watchers = new CopyOnWriteArrayList<>();

        Cell(String name) {
            this.name = name;
        }

        abstract Kind kind();

        abstract long size();
    }

    private static final class ValueCell extends Cell {
        Scalar value;

        ValueCell(String name, Scalar value) {
            super(name);
            this.value = value;
        }

        Kind kind() {
            return Kind.VALUE;
        }

        long size() {
            return 1;
        }
    }

    private static final class DictCell extends Cell {
        final TreeMap<String, Scalar> entries = new TreeMap<>();

        DictCell(String name) {
            super(name);
        }

        Kind kind() {
            return Kind.DICT;
        }

        long size() {
            return entries.size();
        }
    }

    private static final class ListCell extends Cell {
        final ArrayList<Scalar> items = new ArrayList<>();

        ListCell(String name) {
            super(name);
        }

        Kind kind() {
            return Kind.LIST;
        }

        long size() {
            return items.size();
        }
    }

    /**
     * A fixed-length array of one type; {@code zero} is that type's zero and stands for the type.
     * A new array's slots all hold the one (immutable) zero, so creating a long one allocates
     * only the slot table.
     */
    private static final class ArrayCell extends Cell {
        final Scalar zero;
        final Scalar[] items;

        ArrayCell(String name, Scalar zero, Scalar[] items) {
            super(name);
            this.zero = zero;
            this.items = items;
        }

        Kind kind() {
            return Kind.ARRAY;
        }

        long size() {
            return items.length;
        }
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

    // ---- values ------------------------------------------------------------------------------

    public synchronized Versioned getValue(String name) {
        ValueCell v = cell(name, ValueCell.class, Kind.VALUE);
        return new Versioned(v.value, v.version);
    }

    /** Sets a value, creating it with this type if new. */
    public synchronized long setValue(String name, Scalar value) {
        checkScalar("value", value);
        ValueCell v = valueOrCreate(name, value);
        if (v.version > 0) {
            requireType(v, value, "value");
            account(value.size() - v.value.size());
            v.value = value;
        }
        return changed(v);
    }

    /** Sets the value to {@code value} only if it equals {@code expected}. */
    public synchronized Swap compareAndSetValue(String name, Scalar expected, Scalar value) {
        checkScalar("value", value);
        ValueCell v = cell(name, ValueCell.class, Kind.VALUE);
        requireType(v, expected, "expected");
        requireType(v, value, "value");
        if (!v.value.equals(expected)) {
            return new Swap(false, Optional.of(v.value), v.version);
        }
        account(value.size() - v.value.size());
        v.value = value;
        return new Swap(true, Optional.of(value), changed(v));
    }

    /** Atomically adds an int64 or double delta (creating the value as 0 of that type). */
    public synchronized Versioned addValue(String name, Scalar delta) {
        Scalar zero = switch (delta) {
            case Scalar.Int64 i -> new Scalar.Int64(0);
            case Scalar.Float64 d -> new Scalar.Float64(0);
            default -> throw new InvalidArgument("delta", "must be an int64 or double, not " + delta.typeName());
        };
        ValueCell v = valueOrCreate(name, zero);
        requireType(v, delta, "delta");
        v.value = add(v.value, delta, () -> "value \"" + name + "\"");
        return new Versioned(v.value, changed(v));
    }

    /** {@code cur + delta}, both int64 or both double; int64 overflow is refused. */
    private static Scalar add(Scalar cur, Scalar delta, Supplier<String> what) {
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

    private ValueCell valueOrCreate(String name, Scalar initial) {
        FreeNames.check(name);
        Cell c = byName.get(name);
        if (c == null) {
            newName();
            account(initial.size());
            ValueCell v = new ValueCell(name, initial);
            byName.put(name, v);
            return v;
        }
        return as(c, ValueCell.class, Kind.VALUE);
    }

    // ---- dicts -------------------------------------------------------------------------------

    public synchronized Optional<Scalar> dictGet(String name, String key) {
        return Optional.ofNullable(cell(name, DictCell.class, Kind.DICT).entries.get(key));
    }

    /** dict.update: all entries or none (every bound is checked first). */
    public synchronized Resized dictSet(String name, List<Map.Entry<String, Scalar>> items) {
        if (items.isEmpty()) {
            throw new InvalidArgument("items", "must hold at least one entry");
        }
        var merged = new TreeMap<String, Scalar>();
        for (var e : items) {
            checkKey(e.getKey());
            checkScalar("items.value", e.getValue());
            merged.put(e.getKey(), e.getValue());
        }
        boolean fresh = !byName.containsKey(name);
        DictCell d = dictOrCreate(name);
        try {
            return update(d, merged);
        } catch (RuntimeException e) {
            if (fresh) {
                byName.remove(name);
            }
            throw e;
        }
    }

    private Resized update(DictCell d, TreeMap<String, Scalar> merged) {
        long growth = 0;
        int added = 0;
        for (var e : merged.entrySet()) {
            Scalar old = d.entries.get(e.getKey());
            growth += e.getValue().size() + (old == null ? e.getKey().length() : -old.size());
            added += old == null ? 1 : 0;
        }
        if (d.entries.size() + added > limits.maxDictEntries()) {
            throw new ResourceExhausted("DICT_FULL", "dict \"" + d.name + "\" would have " + (d.entries.size() + added)
                    + " entries (max " + limits.maxDictEntries() + ")");
        }
        account(growth);
        d.entries.putAll(merged);
        return new Resized(d.entries.size(), changed(d));
    }

    public synchronized Removed dictDelete(String name, String key) {
        DictCell d = cell(name, DictCell.class, Kind.DICT);
        Scalar old = d.entries.remove(key);
        if (old != null) {
            account(-(old.size() + key.length()));
            changed(d);
        }
        return new Removed(Optional.ofNullable(old), d.entries.size());
    }

    /** Sets {@code key} to {@code value} if it now equals {@code expected} (empty: is absent). */
    public synchronized Swap dictCompareAndSet(String name, String key, Optional<Scalar> expected, Scalar value) {
        FreeNames.check(name);
        checkKey(key);
        checkScalar("value", value);
        Cell existing = byName.get(name);
        Scalar cur = existing == null ? null : as(existing, DictCell.class, Kind.DICT).entries.get(key);
        if (!Objects.equals(Optional.ofNullable(cur), expected)) {
            return new Swap(false, Optional.ofNullable(cur), existing == null ? 0 : existing.version);
        }
        if (existing == null) {
            newName();
        }
        int size = existing == null ? 0 : (int) existing.size();
        if (cur == null && size >= limits.maxDictEntries()) {
            throw new ResourceExhausted("DICT_FULL", "dict \"" + name + "\" already has " + size
                    + " entries (max " + limits.maxDictEntries() + ")");
        }
        account(value.size() + (cur == null ? key.length() : -cur.size()));
        DictCell d = dictOrCreate(name);
        d.entries.put(key, value);
        return new Swap(true, Optional.of(value), changed(d));
    }

    /** Entries after {@code after} (exclusive) in key order, at most {@code pageSize}. */
    public synchronized Page dictItems(String name, int pageSize, Optional<String> after) {
        DictCell d = cell(name, DictCell.class, Kind.DICT);
        var tail = after.isPresent() ? d.entries.tailMap(after.get(), false) : d.entries;
        List<Map.Entry<String, Scalar>> out = new ArrayList<>(Math.min(pageSize, tail.size()));
        long bytes = 0;
        for (var e : tail.entrySet()) {
            long entryBytes = e.getKey().length() + e.getValue().size();
            // A page also ends before a default client could not read it; the token resumes there.
            if (out.size() == pageSize || !ReplySize.fits(out.size(), bytes, entryBytes)) {
                return new Page(out, d.entries.size(), Optional.of(out.getLast().getKey()));
            }
            out.add(Map.entry(e.getKey(), e.getValue()));
            bytes += entryBytes;
        }
        return new Page(out, d.entries.size(), Optional.empty());
    }

    private DictCell dictOrCreate(String name) {
        FreeNames.check(name);
        Cell c = byName.get(name);
        if (c == null) {
            newName();
            DictCell d = new DictCell(name);
            byName.put(name, d);
            return d;
        }
        return as(c, DictCell.class, Kind.DICT);
    }

    // ---- lists -------------------------------------------------------------------------------

    /** append / extend: all items or none. */
    public synchronized long listAppend(String name, List<Scalar> items) {
        if (items.isEmpty()) {
            throw new InvalidArgument("items", "must hold at least one item");
        }
        long growth = 0;
        for (Scalar s : items) {
            checkScalar("items", s);
            growth += s.size();
        }
        FreeNames.check(name);
        ListCell l;
        Cell c = byName.get(name);
        if (c == null) {
            newName();
            l = new ListCell(name);
        } else {
            l = as(c, ListCell.class, Kind.LIST);
        }
        if ((long) l.items.size() + items.size() > limits.maxListLength()) {
            throw new ResourceExhausted("LIST_FULL", "list \"" + name + "\" would have "
                    + ((long) l.items.size() + items.size()) + " items (max " + limits.maxListLength() + ")");
        }
        account(growth);
        byName.putIfAbsent(name, l);
        l.items.addAll(items);
        changed(l);
        return l.items.size();
    }

    public synchronized Scalar listGet(String name, long index) {
        ListCell l = cell(name, ListCell.class, Kind.LIST);
        return l.items.get(position(l, index));
    }

    public synchronized void listSet(String name, long index, Scalar item) {
        checkScalar("item", item);
        ListCell l = cell(name, ListCell.class, Kind.LIST);
        int i = position(l, index);
        account(item.size() - l.items.get(i).size());
        l.items.set(i, item);
        changed(l);
    }

    /** Removes and answers an item (empty index: the last). */
    public synchronized Removed listPop(String name, Optional<Long> index) {
        ListCell l = cell(name, ListCell.class, Kind.LIST);
        if (l.items.isEmpty()) {
            throw new FailedPrecondition("LIST_EMPTY", "list \"" + name + "\" is empty: nothing to pop");
        }
        Scalar s = l.items.remove(position(l, index.orElse(-1L)));
        account(-s.size());
        changed(l);
        return new Removed(Optional.of(s), l.items.size());
    }

    /** Python's {@code l[start:stop]}. */
    public synchronized Slice listSlice(String name, Optional<Long> start, Optional<Long> stop) {
        ListCell l = cell(name, ListCell.class, Kind.LIST);
        int n = l.items.size();
        int from = clamp(start.orElse(0L), n);
        int to = clamp(stop.orElse((long) n), n);
        if (to - from > MAX_PAGE) {
            throw new InvalidArgument("stop", "the slice has " + (to - from) + " items; ask for at most " + MAX_PAGE);
        }
        requireReadableSlice(l.items.subList(Math.min(from, to), to));
        return new Slice(from >= to ? List.of() : List.copyOf(l.items.subList(from, to)), n);
    }

    private static int clamp(long i, int n) {
        long j = i < 0 ? i + n : i;
        return (int) Math.max(0, Math.min(n, j));
    }

    private static int position(ListCell l, long index) {
        long i = index < 0 ? index + l.items.size() : index;
        if (i < 0 || i >= l.items.size()) {
            throw new InvalidArgument("index", index + " is out of range for list \"" + l.name + "\" of length "
                    + l.items.size());
        }
        return (int) i;
    }

    // ---- arrays ------------------------------------------------------------------------------

    /**
     * multiprocessing.Array: creates a fixed-length array of {@code zero}'s type, holding
     * {@code items} (exactly {@code length} of them; {@code length} may be 0 then) or zeros. An
     * existing array of that type and length is answered unchanged, whatever {@code items} say.
     */
    public synchronized ArrayCreated createArray(String name, Scalar zero, long length, List<Scalar> items) {
        FreeNames.check(name);
        long n = length == 0 && !items.isEmpty() ? items.size() : length;
        if (n < 1 || n > limits.maxArrayLength()) {
            throw new InvalidArgument("length", "must be between 1 and " + limits.maxArrayLength() + ", not " + n);
        }
        if (!items.isEmpty() && items.size() != n) {
            throw new InvalidArgument("items", "has " + items.size() + " items for an array of length " + n
                    + "; give all of them or none");
        }
        Cell c = byName.get(name);
        if (c != null) {
            ArrayCell a = as(c, ArrayCell.class, Kind.ARRAY);
            if (!a.zero.sameType(zero) || a.items.length != n) {
                throw new FailedPrecondition("ARRAY_MISMATCH", "array \"" + name + "\" holds " + a.items.length + " "
                        + a.zero.typeName() + "; asked for " + n + " " + zero.typeName(),
                        Map.of("name", name, "type", a.zero.typeName(), "length", Long.toString(a.items.length)));
            }
            return new ArrayCreated(false, a.items.length, a.version);
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
                checkScalar("items", s);
                if (!zero.sameType(s)) {
                    throw new InvalidArgument("items", "item " + i + " is " + s.typeName() + "; the array's type is "
                            + zero.typeName());
                }
                slots[i] = s;
                bytes += s.size();
            }
        }
        newName();
        account(bytes);
        ArrayCell a = new ArrayCell(name, zero, slots);
        byName.put(name, a);
        return new ArrayCreated(true, n, a.version);
    }

    /** Python's {@code a[start:stop]}, at most {@link #MAX_PAGE} elements. */
    public synchronized ArraySlice arraySlice(String name, Optional<Long> start, Optional<Long> stop) {
        ArrayCell a = cell(name, ArrayCell.class, Kind.ARRAY);
        int n = a.items.length;
        int from = clamp(start.orElse(0L), n);
        int to = clamp(stop.orElse((long) n), n);
        if (to - from > MAX_PAGE) {
            throw new InvalidArgument("stop", "the slice has " + (to - from) + " elements; ask for at most " + MAX_PAGE);
        }
        requireReadableSlice(Arrays.asList(a.items).subList(Math.min(from, to), to));
        List<Scalar> items = from >= to ? List.of() : List.of(Arrays.copyOfRange(a.items, from, to));
        return new ArraySlice(items, n, a.zero, a.version);
    }

    /** Python's {@code a[index]}. */
    public synchronized ArraySlice arrayGet(String name, long index) {
        ArrayCell a = cell(name, ArrayCell.class, Kind.ARRAY);
        return new ArraySlice(List.of(a.items[position(a, index, "index")]), a.items.length, a.zero, a.version);
    }

    /** {@code a[start:start+len(items)] = items}: all or none; the length never changes. */
    public synchronized long arraySet(String name, long start, List<Scalar> items) {
        if (items.isEmpty()) {
            throw new InvalidArgument("items", "must hold at least one item");
        }
        ArrayCell a = cell(name, ArrayCell.class, Kind.ARRAY);
        int from = position(a, start, "start");
        if ((long) from + items.size() > a.items.length) {
            throw new InvalidArgument("items", items.size() + " items from index " + from + " run past the end of array \""
                    + name + "\" of length " + a.items.length + " (an array's length never changes)");
        }
        long growth = 0;
        for (int i = 0; i < items.size(); i++) {
            Scalar s = items.get(i);
            checkScalar("items", s);
            requireType(a.name, "array", a.zero, s, "items[" + i + "]");
            growth += s.size() - a.items[from + i].size();
        }
        account(growth);
        for (int i = 0; i < items.size(); i++) {
            a.items[from + i] = items.get(i);
        }
        return changed(a);
    }

    /** Atomically adds an int64 or double delta to one element. */
    public synchronized Versioned arrayAdd(String name, long index, Scalar delta) {
        if (!(delta instanceof Scalar.Int64 || delta instanceof Scalar.Float64)) {
            throw new InvalidArgument("delta", "must be an int64 or double, not " + delta.typeName());
        }
        ArrayCell a = cell(name, ArrayCell.class, Kind.ARRAY);
        requireType(a.name, "array", a.zero, delta, "delta");
        int i = position(a, index, "index");
        Scalar sum = add(a.items[i], delta, () -> "element " + i + " of array \"" + name + "\"");
        a.items[i] = sum;
        return new Versioned(sum, changed(a));
    }

    private static int position(ArrayCell a, long index, String field) {
        long i = index < 0 ? index + a.items.length : index;
        if (i < 0 || i >= a.items.length) {
            throw new InvalidArgument(field, index + " is out of range for array \"" + a.name + "\" of length "
                    + a.items.length);
        }
        return (int) i;
    }

    // ---- names and watches -------------------------------------------------------------------

    public synchronized List<Info> list(Optional<Kind> kind) {
        return byName.values().stream().filter(c -> kind.isEmpty() || c.kind() == kind.get())
                .map(c -> new Info(c.name, c.kind(), c.size(), c.version)).toList();
    }

    public synchronized Kind delete(String name) {
        Cell c = require(name);
        byName.remove(name);
        account(-switch (c) {
            case ValueCell v -> v.value.size();
            case DictCell d -> d.entries.entrySet().stream().mapToLong(e -> e.getKey().length() + e.getValue().size()).sum();
            case ListCell l -> l.items.stream().mapToLong(Scalar::size).sum();
            case ArrayCell a -> Arrays.stream(a.items).mapToLong(Scalar::size).sum();
        });
        c.version++;
        c.watchers.forEach(Runnable::run); // they see it deleted
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
        Cell c = require(name);
        if (key.isPresent() && !(c instanceof DictCell)) {
            throw new InvalidArgument("key", "applies only to a dict; \"" + name + "\" is a " + c.kind().words());
        }
        c.watchers.add(changed);
        return new Watch() {
            @Override
            public WatchState snapshot() {
                synchronized (SharedStore.this) {
                    if (byName.get(name) != c) {
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

    // ---- helpers -----------------------------------------------------------------------------

    private long changed(Cell c) {
        c.version++;
        for (Runnable w : c.watchers) {
            w.run();
        }
        return c.version;
    }

    private Cell require(String name) {
        FreeNames.check(name);
        Cell c = byName.get(name);
        if (c == null) {
            throw new NotFound("shared object", name);
        }
        return c;
    }

    private <T extends Cell> T cell(String name, Class<T> type, Kind kind) {
        return as(require(name), type, kind);
    }

    private static <T extends Cell> T as(Cell c, Class<T> type, Kind kind) {
        if (!type.isInstance(c)) {
            throw new FailedPrecondition("WRONG_KIND", "\"" + c.name + "\" is a " + c.kind().words() + ", not a "
                    + kind.words(), Map.of("name", c.name, "kind", c.kind().name()));
        }
        return type.cast(c);
    }

    private static void requireType(ValueCell v, Scalar s, String field) {
        requireType(v.name, "value", v.value, s, field);
    }

    private static void requireType(String name, String kind, Scalar held, Scalar s, String field) {
        if (!held.sameType(s)) {
            throw new FailedPrecondition("TYPE_MISMATCH", kind + " \"" + name + "\" holds " + held.typeName()
                    + "; " + field + " is " + s.typeName(), Map.of("name", name, "type", held.typeName()));
        }
    }

    private void newName() {
        if (byName.size() >= limits.maxNames()) {
            throw new ResourceExhausted("TOO_MANY_SHARED_OBJECTS", "there are already " + byName.size()
                    + " shared values, arrays, dicts and lists (max " + limits.maxNames() + ")");
        }
    }

    /**
     * Charges a change in size to the store's bound and the server's budget, or refuses it. Every
     * caller calls it before it changes anything, so a refusal leaves the store as it was.
     */
    private void account(long delta) {
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

    private void checkScalar(String field, Scalar s) {
        if (s.size() > limits.maxScalarBytes()) {
            throw new InvalidArgument(field, "is " + s.size() + " bytes; at most " + limits.maxScalarBytes()
                    + " bytes per value");
        }
    }

    private static void checkKey(String key) {
        if (key.length() > MAX_KEY_LENGTH) {
            throw new InvalidArgument("key", "must be at most " + MAX_KEY_LENGTH + " characters");
        }
    }

    /** A slice must fit one reply a default client reads (a slice has no page token to go on with). */
    private static void requireReadableSlice(List<Scalar> slice) {
        long bytes = 0;
        for (Scalar s : slice) {
            bytes += s.size();
        }
        if (bytes > ReplySize.MAX_BATCH_BYTES) {
            throw new InvalidArgument("stop", "the slice holds " + bytes + " bytes; a reply holds at most "
                    + ReplySize.MAX_BATCH_BYTES + " (what any gRPC client reads): ask for fewer items");
        }
    }

    /** For tests and status: bytes held. */
    public synchronized long totalBytes() {
        return totalBytes;
    }
}
