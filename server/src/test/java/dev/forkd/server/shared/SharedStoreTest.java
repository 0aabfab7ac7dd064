package dev.forkd.server.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class SharedStoreTest {

    private final SharedStore store = new SharedStore(new SharedStore.Limits(4, 16, 3, 3, 1000));

    private static Scalar i(long v) {
        return new Scalar.Int64(v);
    }

    private static Scalar s(String v) {
        return new Scalar.Text(v);
    }

    @Test
    void addCreatesAtZeroAndIsAtomicAcrossThreads() throws Exception {
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            ts.add(Thread.ofPlatform().start(() -> {
                for (int k = 0; k < 10_000; k++) {
                    store.addValue("n", i(1));
                }
            }));
        }
        for (Thread t : ts) {
            t.join(10_000);
        }
        assertEquals(i(40_000), store.getValue("n").value());
        assertEquals(new Scalar.Float64(1.5), store.addValue("d", new Scalar.Float64(1.5)).value());
    }

    @Test
    void typeMismatchIsRefusedAndChangesNothing() {
        store.setValue("n", i(5));
        var e = assertThrows(ForkdException.FailedPrecondition.class, () -> store.setValue("n", s("x")));
        assertEquals("TYPE_MISMATCH", e.reason());
        assertTrue(e.getMessage().contains("int64") && e.getMessage().contains("string"), e.getMessage());
        assertThrows(ForkdException.FailedPrecondition.class, () -> store.addValue("n", new Scalar.Float64(1)));
        assertThrows(ForkdException.InvalidArgument.class, () -> store.addValue("n", s("1")));
        assertEquals(i(5), store.getValue("n").value());
        assertEquals(1, store.getValue("n").version());
    }

    @Test
    void compareAndSetSwapsOnlyOnMatch() {
        store.setValue("n", i(1));
        assertFalse(store.compareAndSetValue("n", i(2), i(3)).swapped());
        var ok = store.compareAndSetValue("n", i(1), i(3));
        assertTrue(ok.swapped());
        assertEquals(Optional.of(i(3)), ok.current());
        assertThrows(ForkdException.NotFound.class, () -> store.compareAndSetValue("x", i(1), i(2)));
    }

    @Test
    void overflowIsRefused() {
        store.setValue("n", i(Long.MAX_VALUE));
        assertThrows(ForkdException.FailedPrecondition.class, () -> store.addValue("n", i(1)));
        assertEquals(i(Long.MAX_VALUE), store.getValue("n").value());
    }

    @Test
    void dictOperationsAndBounds() {
        store.dictSet("d", List.of(Map.entry("a", i(1)), Map.entry("b", s("x"))));
        assertEquals(Optional.of(i(1)), store.dictGet("d", "a"));
        assertEquals(Optional.empty(), store.dictGet("d", "zz"));
        assertTrue(store.dictCompareAndSet("d", "c", Optional.empty(), i(3)).swapped());
        assertFalse(store.dictCompareAndSet("d", "c", Optional.empty(), i(4)).swapped());
        var full = assertThrows(ForkdException.ResourceExhausted.class,
                () -> store.dictSet("d", List.of(Map.entry("z", i(0)))));
        assertTrue(full.getMessage().contains("max 3"), full.getMessage());
        var page = store.dictItems("d", 2, Optional.empty());
        assertEquals(List.of("a", "b"), page.items().stream().map(Map.Entry::getKey).toList());
        assertEquals(3, page.size());
        var rest = store.dictItems("d", 2, page.nextAfter());
        assertEquals(List.of("c"), rest.items().stream().map(Map.Entry::getKey).toList());
        assertEquals(Optional.of(i(1)), store.dictDelete("d", "a").value());
        assertEquals(2, store.dictItems("d", 10, Optional.empty()).size());
    }

    @Test
    void failedUpdateOfANewDictLeavesNoDict() {
        assertThrows(ForkdException.ResourceExhausted.class, () -> store.dictSet("d",
                List.of(Map.entry("a", i(1)), Map.entry("b", i(1)), Map.entry("c", i(1)), Map.entry("e", i(1)))));
        assertThrows(ForkdException.NotFound.class, () -> store.dictGet("d", "a"));
    }

    @Test
    void listOperationsFollowPython() {
        store.listAppend("l", List.of(i(1), i(2), i(3)));
        assertEquals(i(3), store.listGet("l", -1));
        store.listSet("l", 0, i(9));
        assertEquals(List.of(i(9), i(2)), store.listSlice("l", Optional.empty(), Optional.of(-1L)).items());
        assertThrows(ForkdException.ResourceExhausted.class, () -> store.listAppend("l", List.of(i(4))));
        assertEquals(i(3), store.listPop("l", Optional.empty()).value().orElseThrow());
        assertEquals(i(9), store.listPop("l", Optional.of(0L)).value().orElseThrow());
        var e = assertThrows(ForkdException.InvalidArgument.class, () -> store.listGet("l", 5));
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
        store.listPop("l", Optional.empty());
        assertEquals("LIST_EMPTY", assertThrows(ForkdException.FailedPrecondition.class,
                () -> store.listPop("l", Optional.empty())).reason());
    }

    @Test
    void wrongKindSizeAndNameLimits() {
        store.setValue("v", i(1));
        var e = assertThrows(ForkdException.FailedPrecondition.class, () -> store.listAppend("v", List.of(i(1))));
        assertEquals("WRONG_KIND", e.reason());
        assertTrue(e.getMessage().contains("value") && e.getMessage().contains("list"), e.getMessage());
        var big = assertThrows(ForkdException.InvalidArgument.class, () -> store.setValue("s", s("x".repeat(17))));
        assertTrue(big.getMessage().contains("at most 16 bytes"), big.getMessage());
        store.setValue("a", i(1));
        store.setValue("b", i(1));
        store.setValue("c", i(1));
        var names = assertThrows(ForkdException.ResourceExhausted.class, () -> store.setValue("e", i(1)));
        assertEquals("TOO_MANY_SHARED_OBJECTS", names.reason());
    }

    @Test
    void watchersAreToldOfChangesAndSeeTheLatestState() {
        store.dictSet("d", List.of(Map.entry("k", i(1))));
        AtomicInteger calls = new AtomicInteger();
        try (var w = store.watch("d", Optional.of("k"), calls::incrementAndGet)) {
            assertEquals(Optional.of(i(1)), w.snapshot().value());
            store.dictSet("d", List.of(Map.entry("k", i(2))));
            assertEquals(1, calls.get());
            assertEquals(Optional.of(i(2)), w.snapshot().value());
            store.dictDelete("d", "k");
            assertFalse(w.snapshot().present());
            store.delete("d");
            assertTrue(w.snapshot().deleted());
        }
        assertThrows(ForkdException.InvalidArgument.class,
                () -> {
                    store.setValue("v", i(0));
                    store.watch("v", Optional.of("k"), () -> {});
                });
    }
}
