package dev.forkd.server.shared;

import static dev.forkd.server.shared.SharedRules.checkKey;
import static dev.forkd.server.shared.SharedRules.checkScalar;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.ForkdException.ResourceExhausted;
import dev.forkd.server.error.FreeNames;
import dev.forkd.server.memory.ReplySize;
import dev.forkd.server.store.StoreWrite;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/** A Manager's dict: get, update, delete, compare-and-set, pages. Called under {@link SharedStore}'s monitor. */
final class SharedDicts {

    private final SharedSpace space;

    SharedDicts(SharedSpace space) {
        this.space = space;
    }

    Optional<Scalar> get(String name, String key) {
        return Optional.ofNullable(space.cell(name, DictCell.class, SharedStore.Kind.DICT).entries.get(key));
    }

    /** dict.update: all entries or none (every bound is checked first). */
    SharedStore.Resized set(String name, List<Map.Entry<String, Scalar>> items) {
        if (items.isEmpty()) {
            throw new InvalidArgument("items", "must hold at least one entry");
        }
        var merged = new TreeMap<String, Scalar>();
        for (var e : items) {
            checkKey(e.getKey());
            checkScalar(space.limits(), "items.value", e.getValue());
            merged.put(e.getKey(), e.getValue());
        }
        boolean fresh = !space.byName.containsKey(name);
        DictCell d = dictOrCreate(name);
        try {
            return update(d, merged);
        } catch (RuntimeException e) {
            if (fresh) {
                space.byName.remove(name);
            }
            throw e;
        }
    }

    private SharedStore.Resized update(DictCell d, TreeMap<String, Scalar> merged) {
        long growth = 0;
        int added = 0;
        for (var e : merged.entrySet()) {
            Scalar old = d.entries.get(e.getKey());
            growth += e.getValue().size() + (old == null ? e.getKey().length() : -old.size());
            added += old == null ? 1 : 0;
        }
        int max = space.limits().maxDictEntries();
        if (d.entries.size() + added > max) {
            throw new ResourceExhausted("DICT_FULL", "dict \"" + d.name + "\" would have " + (d.entries.size() + added)
                    + " entries (max " + max + ")");
        }
        space.account(growth);
        d.entries.putAll(merged);
        long version = space.changed(d, () -> {
            List<StoreWrite> rows = new ArrayList<>(merged.size());
            merged.forEach((k, v) -> rows.add(SharedRows.dictEntry(d, k, v)));
            return rows;
        });
        return new SharedStore.Resized(d.entries.size(), version);
    }

    SharedStore.Removed delete(String name, String key) {
        DictCell d = space.cell(name, DictCell.class, SharedStore.Kind.DICT);
        Scalar old = d.entries.remove(key);
        if (old != null) {
            space.account(-DictCell.entryBytes(key, old));
            space.changed(d, () -> List.of(new StoreWrite.Delete(SharedRows.dictKind(d.name), key)));
        }
        return new SharedStore.Removed(Optional.ofNullable(old), d.entries.size());
    }

    /** Sets {@code key} to {@code value} if it now equals {@code expected} (empty: is absent). */
    SharedStore.Swap compareAndSet(String name, String key, Optional<Scalar> expected, Scalar value) {
        FreeNames.check(name);
        checkKey(key);
        checkScalar(space.limits(), "value", value);
        Cell existing = space.byName.get(name);
        Scalar cur = existing == null ? null
                : SharedSpace.as(existing, DictCell.class, SharedStore.Kind.DICT).entries.get(key);
        if (!Objects.equals(Optional.ofNullable(cur), expected)) {
            return new SharedStore.Swap(false, Optional.ofNullable(cur), existing == null ? 0 : existing.version);
        }
        if (existing == null) {
            space.newName();
        }
        int size = existing == null ? 0 : (int) existing.size();
        int max = space.limits().maxDictEntries();
        if (cur == null && size >= max) {
            throw new ResourceExhausted("DICT_FULL", "dict \"" + name + "\" already has " + size
                    + " entries (max " + max + ")");
        }
        space.account(value.size() + (cur == null ? key.length() : -cur.size()));
        DictCell d = dictOrCreate(name);
        d.entries.put(key, value);
        return new SharedStore.Swap(true, Optional.of(value),
                space.changed(d, () -> List.of(SharedRows.dictEntry(d, key, value))));
    }

    /** Entries after {@code after} (exclusive) in key order, at most {@code pageSize}. */
    SharedStore.Page items(String name, int pageSize, Optional<String> after) {
        DictCell d = space.cell(name, DictCell.class, SharedStore.Kind.DICT);
        var tail = after.isPresent() ? d.entries.tailMap(after.get(), false) : d.entries;
        List<Map.Entry<String, Scalar>> out = new ArrayList<>(Math.min(pageSize, tail.size()));
        long bytes = 0;
        for (var e : tail.entrySet()) {
            long entryBytes = e.getKey().length() + e.getValue().size();
            // A page also ends before a default client could not read it; the token resumes there.
            if (out.size() == pageSize || !ReplySize.fits(out.size(), bytes, entryBytes)) {
                return new SharedStore.Page(out, d.entries.size(), Optional.of(out.getLast().getKey()));
            }
            out.add(Map.entry(e.getKey(), e.getValue()));
            bytes += entryBytes;
        }
        return new SharedStore.Page(out, d.entries.size(), Optional.empty());
    }

    private DictCell dictOrCreate(String name) {
        FreeNames.check(name);
        Cell c = space.byName.get(name);
        if (c == null) {
            space.newName();
            DictCell d = new DictCell(name);
            space.byName.put(name, d);
            return d;
        }
        return SharedSpace.as(c, DictCell.class, SharedStore.Kind.DICT);
    }
}
