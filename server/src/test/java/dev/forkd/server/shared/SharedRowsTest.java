package dev.forkd.server.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A change writes the rows it touched and no more: one key of a 10,000-key dict, one item of a list
 * (a pop from the middle renumbers nothing), one chunk of an array, and the object's header with its
 * new revision. Each change is one write, so it commits in one transaction.
 */
class SharedRowsTest {

    /** Keeps the writes it is given, in order. */
    private static final class Recorder implements StateStore {
        final List<List<StoreWrite>> writes = new ArrayList<>();

        @Override
        public boolean keeps() {
            return true;
        }

        @Override
        public CompletableFuture<Void> write(List<StoreWrite> w) {
            writes.add(List.copyOf(w));
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public List<StoreRow> load(String kind) {
            return List.of();
        }

        @Override
        public List<String> kinds(String prefix) {
            return List.of();
        }

        @Override
        public void close() {
        }

        /** The last write, as kind/key of each row it puts or deletes. */
        List<String> last() {
            return writes.getLast().stream().map(w -> switch (w) {
                case StoreWrite.Put p -> "put " + p.kind() + " " + p.key();
                case StoreWrite.Delete d -> "delete " + d.kind() + " " + d.key();
                case StoreWrite.DeleteKind k -> "delete all " + k.kind();
            }).toList();
        }
    }

    private final Recorder store = new Recorder();
    private final SharedStore shared = new SharedStore(SharedStore.Limits.DEFAULT, MemoryBudget.unlimited(), store);

    private static Scalar i(long v) {
        return new Scalar.Int64(v);
    }

    @Test
    void aChangeWritesOnlyTheRowsItTouched() {
        List<Map.Entry<String, Scalar>> entries = new ArrayList<>();
        for (int k = 0; k < 10_000; k++) {
            entries.add(Map.entry("k" + k, i(k)));
        }
        shared.dictSet("d", entries);
        assertEquals(10_001, store.writes.getLast().size());
        shared.dictSet("d", List.of(Map.entry("k5", i(-5))));
        assertEquals(List.of("put shared d", "put shared-dict/d k5"), store.last());
        shared.dictDelete("d", "k6");
        assertEquals(List.of("put shared d", "delete shared-dict/d k6"), store.last());

        shared.listAppend("l", List.of(i(0), i(1), i(2)));
        shared.listPop("l", Optional.of(1L));
        assertEquals(List.of("put shared l", "delete shared-list/l 0000000000000001"), store.last());
        shared.listSet("l", 1, i(22));
        assertEquals(List.of("put shared l", "put shared-list/l 0000000000000002"), store.last());

        shared.createArray("a", new Scalar.Int64(0), 5000, List.of());
        assertEquals(1 + 5, store.writes.getLast().size(), "a header and 5 chunks");
        shared.arrayAdd("a", 3000, i(1));
        assertEquals(List.of("put shared a", "put shared-array/a 00000002"), store.last());

        shared.addValue("n", i(1));
        assertEquals(List.of("put shared n"), store.last());
        shared.delete("d");
        assertEquals(List.of("delete shared d", "delete all shared-dict/d"), store.last());
    }

    @Test
    void aReadOrARefusalWritesNothing() {
        shared.addValue("n", i(1));
        int before = store.writes.size();
        shared.getValue("n");
        shared.compareAndSetValue("n", i(7), i(8));
        try {
            shared.addValue("n", new Scalar.Float64(1));
        } catch (RuntimeException expected) {
            // a type mismatch
        }
        assertEquals(before, store.writes.size());
    }
}
