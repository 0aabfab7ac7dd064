package dev.forkd.server.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Shared state is charged to the server's budget as well as to the store's own bound. */
class SharedStoreBudgetTest {

    @Test
    void aValueTheBudgetCannotHoldIsRefusedAndDeletingGivesBack() {
        MemoryBudget budget = new MemoryBudget(1000);
        SharedStore store = new SharedStore(new SharedStore.Limits(10, 1000, 10, 10, 10, 10_000), budget);
        store.setValue("a", new Scalar.Bytes(new byte[600]));
        long used = budget.used();
        var e = assertThrows(ForkdException.ResourceExhausted.class,
                () -> store.setValue("b", new Scalar.Bytes(new byte[600])));
        assertEquals(MemoryBudget.REASON, e.reason());
        assertEquals(used, budget.used());
        assertThrows(ForkdException.NotFound.class, () -> store.getValue("b"));
        store.delete("a");
        assertEquals(0, budget.used());
        store.setValue("b", new Scalar.Bytes(new byte[600]));
    }

    @Test
    void aDictPageEndsBeforeADefaultClientsLimitAndASliceOverItIsRefused() {
        SharedStore store = new SharedStore(new SharedStore.Limits(10, 1 << 20, 10, 10, 10, 64L << 20));
        List<Map.Entry<String, Scalar>> entries = new ArrayList<>();
        List<Scalar> items = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            entries.add(Map.entry("k" + i, new Scalar.Bytes(new byte[1 << 20])));
            items.add(new Scalar.Bytes(new byte[1 << 20]));
        }
        store.dictSet("d", entries);
        var page = store.dictItems("d", 100, Optional.empty());
        assertEquals(2, page.items().size(), "a third 1 MiB value would pass 3 MiB");
        assertEquals(Optional.of("k1"), page.nextAfter());
        var rest = store.dictItems("d", 100, page.nextAfter());
        assertEquals("k2", rest.items().getFirst().getKey());
        store.listAppend("l", items);
        var e = assertThrows(ForkdException.InvalidArgument.class,
                () -> store.listSlice("l", Optional.empty(), Optional.empty()));
        assertEquals("stop", e.field());
        assertEquals(3, store.listSlice("l", Optional.of(2L), Optional.empty()).items().size());
    }
}
