package dev.forkd.server.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
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
}
