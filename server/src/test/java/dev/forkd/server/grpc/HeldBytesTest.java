package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import org.junit.jupiter.api.Test;

/** A stream's share of the budget: held and given back in pieces, then all at once, and only once. */
class HeldBytesTest {

    private final MemoryBudget memory = new MemoryBudget(100);
    private final HeldBytes held = new HeldBytes(memory);

    @Test
    void piecesAreHeldAndGivenBackThenTheRestAllAtOnce() {
        held.hold(40, "items");
        assertTrue(held.tryHold(30, "a result").isEmpty());
        assertEquals(70, memory.used());
        held.giveBack(30);
        assertEquals(40, memory.used());
        assertTrue(held.releaseAll());
        assertEquals(0, memory.used());
        assertTrue(held.released());
    }

    @Test
    void afterTheReleaseNothingIsGivenBackTwice() {
        held.hold(40, "items");
        held.releaseAll();
        held.giveBack(40);
        assertFalse(held.releaseAll());
        assertEquals(0, memory.used(), "not below zero: the 40 were given back once");
    }

    @Test
    void whatTheBudgetCannotTakeIsRefusedAndNotHeld() {
        held.hold(90, "items");
        ForkdException refused = held.tryHold(20, "a result of a Map stream").orElseThrow();
        assertEquals(MemoryBudget.REASON, refused.reason());
        assertThrows(ForkdException.class, () -> held.hold(20, "more items"));
        assertEquals(90, memory.used());
        held.releaseAll();
        assertEquals(0, memory.used());
    }
}
