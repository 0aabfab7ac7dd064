package dev.forkd.server.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.SqliteStateStore;
import dev.forkd.server.store.StoreException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared state in a real SQLite state store: closing the store and opening a new SharedStore on it
 * is a restart. Everything, with its revision, is as it was; deletes leave no rows; the budget is
 * charged again.
 */
@Timeout(120)
class SharedStoreRestartTest {

    private static final SharedStore.Limits LIMITS = SharedStore.Limits.DEFAULT;

    @TempDir
    Path dir;
    private SqliteStateStore db;
    private MemoryBudget budget;
    private SharedStore shared;

    private static Scalar i(long v) {
        return new Scalar.Int64(v);
    }

    private static Scalar s(String v) {
        return new Scalar.Text(v);
    }

    private SharedStore open() {
        db = SqliteStateStore.open(dir.resolve("state.db"));
        budget = new MemoryBudget(1L << 30);
        shared = new SharedStore(LIMITS, budget, db);
        return shared;
    }

    private SharedStore restart() {
        db.close();
        return open();
    }

    @AfterEach
    void close() {
        if (db != null) {
            db.close();
        }
    }

    /** Everything a client can read, revisions included. */
    private static List<Object> view(SharedStore st) {
        List<Object> all = new ArrayList<>();
        for (var info : st.list(Optional.empty())) {
            all.add(info);
            switch (info.kind()) {
                case VALUE -> all.add(st.getValue(info.name()));
                case DICT -> all.add(st.dictItems(info.name(), SharedStore.MAX_PAGE, Optional.empty()));
                case LIST -> all.add(st.listSlice(info.name(), Optional.empty(), Optional.empty()));
                case ARRAY -> {
                    var whole = st.arraySlice(info.name(), Optional.empty(), Optional.empty());
                    all.add(whole);
                }
            }
        }
        return all;
    }

    @Test
    void everyKindAndEveryChangeSurvivesARestartAndRevisionsGoOn() {
        open();
        shared.setValue("text", s("a"));
        shared.setValue("text", s("héllo"));
        shared.addValue("count", i(5));
        shared.addValue("count", i(-2));
        shared.addValue("ratio", new Scalar.Float64(0.25));
        shared.setValue("flag", new Scalar.Bool(true));
        shared.setValue("blob", new Scalar.Bytes(new byte[] {0, 1, 2, (byte) 255}));
        assertTrue(shared.compareAndSetValue("flag", new Scalar.Bool(true), new Scalar.Bool(false)).swapped());
        shared.setValue("gone", i(1));

        shared.dictSet("d", List.of(Map.entry("a", i(1)), Map.entry("b", s("x")), Map.entry("c", i(3))));
        shared.dictSet("d", List.of(Map.entry("a", i(10))));
        shared.dictDelete("d", "b");
        shared.dictCompareAndSet("d", "new", Optional.empty(), s("made"));
        shared.dictCompareAndSet("fresh", "k", Optional.empty(), i(7));

        shared.listAppend("l", List.of(i(0), i(1), i(2), i(3), i(4)));
        shared.listSet("l", 1, i(11));
        shared.listPop("l", Optional.of(2L)); // from the middle
        shared.listPop("l", Optional.empty());
        shared.listAppend("l", List.of(i(5)));
        shared.listAppend("emptied", List.of(s("x")));
        shared.listPop("emptied", Optional.empty());

        int n = 3 * ArrayCell.CHUNK + 5; // several chunks, the last one short
        shared.createArray("zeros", new Scalar.Float64(0), n, List.of());
        shared.arraySet("zeros", ArrayCell.CHUNK - 2, List.of(new Scalar.Float64(1), new Scalar.Float64(2),
                new Scalar.Float64(3), new Scalar.Float64(4))); // across a chunk boundary
        shared.arrayAdd("zeros", -1, new Scalar.Float64(9.5));
        shared.createArray("given", new Scalar.Text(""), 0, List.of(s("p"), s("q")));
        shared.createArray("untouched", new Scalar.Int64(0), 4, List.of());
        shared.createArray("texts", new Scalar.Text(""), 3 * ArrayCell.TEXT_CHUNK + 1, List.of());
        shared.arraySet("texts", ArrayCell.TEXT_CHUNK - 1, List.of(s("end of one"), s("start of next")));
        shared.arraySet("texts", -1, List.of(s("last")));
        shared.delete("gone");

        List<Object> before = view(shared);
        long bytes = shared.totalBytes();
        long charged = budget.used();
        restart();

        assertEquals(before, view(shared));
        assertEquals(bytes, shared.totalBytes());
        assertEquals(charged, budget.used(), "the memory budget is charged again on load");
        assertThrows(dev.forkd.server.error.ForkdException.NotFound.class, () -> shared.getValue("gone"));
        assertEquals(List.of(i(0), i(11), i(3), i(5)),
                shared.listSlice("l", Optional.empty(), Optional.empty()).items());
        assertEquals(new Scalar.Float64(9.5), shared.arrayGet("zeros", -1).items().getFirst());

        // Revisions go on from where they were: a watch or compare-and-set never sees one twice.
        long count = shared.getValue("count").version();
        assertEquals(count + 1, shared.addValue("count", i(1)).version());
        long dict = versionOf("d");
        assertEquals(dict + 1, shared.dictSet("d", List.of(Map.entry("z", i(0)))).version());
        long array = versionOf("zeros");
        assertEquals(array + 1, shared.arrayAdd("zeros", 0, new Scalar.Float64(1)).version());
        shared.listAppend("l", List.of(i(6)));
        shared.listPop("l", Optional.of(0L));

        List<Object> after = view(shared);
        restart();
        assertEquals(after, view(shared));
        assertEquals(List.of(i(11), i(3), i(5), i(6)), shared.listSlice("l", Optional.empty(), Optional.empty()).items());
    }

    private long versionOf(String name) {
        return shared.list(Optional.empty()).stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow()
                .version();
    }

    @Test
    void deletingAnObjectRemovesItsRowsAndANewOneOfTheNameStartsClean() {
        open();
        shared.dictSet("x", List.of(Map.entry("a", i(1)), Map.entry("b", i(2))));
        shared.listAppend("y", List.of(i(1), i(2)));
        shared.createArray("z", new Scalar.Int64(0), 2000, List.of());
        shared.setValue("v", i(1));
        for (String name : List.of("x", "y", "z", "v")) {
            shared.delete(name);
        }
        shared.listAppend("x", List.of(s("now a list")));
        restart();
        assertEquals(Map.of("shared", 1L, "shared-list/x", 1L), db.counts());
        assertEquals(List.of(s("now a list")), shared.listSlice("x", Optional.empty(), Optional.empty()).items());
        assertEquals(1, shared.list(Optional.empty()).size());
    }

    @Test
    void aRefusedChangeWritesNothing() {
        open();
        shared.setValue("n", i(1));
        var refused = assertThrows(dev.forkd.server.error.ForkdException.class, () -> shared.setValue("n", s("x")));
        assertEquals("TYPE_MISMATCH", refused.reason());
        assertThrows(RuntimeException.class, () -> shared.listAppend("l", List.of()));
        restart();
        assertEquals(new SharedStore.Versioned(i(1), 1), shared.getValue("n"));
        assertEquals(Map.of("shared", 1L), db.counts());
    }

    @Test
    void anAnswerWaitsForItsCommitAndEveryAnsweredAddIsKept() throws Exception {
        open();
        int threads = 8;
        int adds = 2_000;
        List<CompletableFuture<Void>> commits = new ArrayList<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            ts.add(Thread.ofPlatform().start(() -> {
                List<CompletableFuture<Void>> mine = new ArrayList<>();
                for (int k = 0; k < adds; k++) {
                    mine.add(shared.kept(() -> shared.addValue("n", i(1))).committed());
                }
                synchronized (commits) {
                    commits.addAll(mine);
                }
            }));
        }
        for (Thread t : ts) {
            t.join(60_000);
        }
        CompletableFuture.allOf(commits.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertEquals(threads * adds, commits.size());
        restart();
        assertEquals(i(threads * adds), shared.getValue("n").value());
        assertEquals(threads * adds, shared.getValue("n").version());
    }

    @Test
    void aReadWaitsForTheChangesItSaw() {
        open();
        var add = shared.kept(() -> shared.addValue("n", i(1)));
        var read = shared.kept(() -> shared.getValue("n"));
        assertEquals(i(1), read.result().value());
        assertSame(add.committed(), read.committed(), "a read that saw the add is answered once the add is kept");
        read.committed().join();
        restart();
        var quiet = shared.kept(() -> shared.getValue("n"));
        assertTrue(quiet.committed().isDone(), "with nothing pending, a read is answered at once");
    }

    @Test
    void aStoreThatCannotKeepAChangeFailsItsAnswer() {
        open();
        db.close();
        var kept = shared.kept(() -> shared.addValue("n", i(1)));
        var failure = assertThrows(java.util.concurrent.CompletionException.class, () -> kept.committed().join());
        assertTrue(failure.getCause() instanceof StoreException, failure.toString());
        db = null;
    }

    @Test
    void stateTheBudgetCannotHoldIsRefusedAtStartWithTheFlagNamed() {
        open();
        shared.setValue("big", new Scalar.Bytes(new byte[4096]));
        db.close();
        db = SqliteStateStore.open(dir.resolve("state.db"));
        var e = assertThrows(StoreException.class, () -> new SharedStore(LIMITS, new MemoryBudget(1000), db));
        assertTrue(e.getMessage().contains(MemoryBudget.FLAG), e.getMessage());
    }

    /** The recovery target counts 10,000 shared keys among other things: they must load fast. */
    @Test
    void tenThousandValuesAndATenThousandKeyDictLoadQuickly() {
        open();
        List<Map.Entry<String, Scalar>> entries = new ArrayList<>();
        for (int k = 0; k < 10_000; k++) {
            entries.add(Map.entry("key-" + k, i(k)));
        }
        shared.dictSet("big", entries);
        for (int k = 0; k < LIMITS.maxNames() - 1; k++) {
            shared.setValue("v" + k, i(k));
        }
        shared.dictSet("big", List.of(Map.entry("key-5", s("changed"))));
        List<Object> before = view(shared);
        db.close();
        long start = System.nanoTime();
        open();
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("[shared-load] 9,999 values and a 10,000-key dict loaded in " + millis + " ms");
        assertEquals(before, view(shared));
        assertTrue(millis < 10_000, "loading took " + millis + " ms");
        assertFalse(shared.dictGet("big", "key-5").isEmpty());
    }
}
