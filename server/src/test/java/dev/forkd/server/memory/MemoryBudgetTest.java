package dev.forkd.server.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class MemoryBudgetTest {

    @Test
    void reservesUpToTheLimitAndReleaseFreesRoom() {
        MemoryBudget b = new MemoryBudget(100);
        assertTrue(b.tryReserve(60));
        assertTrue(b.tryReserve(40));
        assertEquals(100, b.used());
        assertEquals(0, b.available());
        assertFalse(b.tryReserve(1));
        b.release(30);
        assertEquals(70, b.used());
        assertTrue(b.tryReserve(30));
    }

    @Test
    void aRefusedReservationChangesNothing() {
        MemoryBudget b = new MemoryBudget(100);
        b.reserve(90, "x");
        var e = assertThrows(ForkdException.ResourceExhausted.class, () -> b.reserve(11, "3 items for queue \"q\""));
        assertEquals(90, b.used());
        assertEquals(MemoryBudget.REASON, e.reason());
        assertTrue(e.getMessage().contains("--memory-budget"), e.getMessage());
        assertTrue(e.getMessage().contains("3 items for queue \"q\""), e.getMessage());
        assertEquals("100", e.metadata().get("budget_bytes"));
        assertEquals("11", e.metadata().get("requested_bytes"));
    }

    @Test
    void zeroIsFreeAndNegativeIsABug() {
        MemoryBudget b = new MemoryBudget(1);
        assertTrue(b.tryReserve(1));
        assertTrue(b.tryReserve(0));
        assertThrows(IllegalArgumentException.class, () -> b.tryReserve(-1));
        assertThrows(IllegalArgumentException.class, () -> b.release(-1));
        assertThrows(IllegalArgumentException.class, () -> new MemoryBudget(0));
    }

    @Test
    void concurrentReservationsNeverPassTheLimit() throws Exception {
        MemoryBudget b = new MemoryBudget(10_000);
        AtomicLong granted = new AtomicLong();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 10_000; i++) {
                    if (b.tryReserve(7)) {
                        granted.addAndGet(7);
                    }
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(granted.get(), b.used());
        assertTrue(b.used() <= 10_000 && b.used() > 10_000 - 7, "used " + b.used());
    }

    @Test
    void aBatchEndsBeforeItPassesWhatADefaultClientReads() {
        assertTrue(ReplySize.fits(0, 0, 10L << 20), "a batch always takes its first item");
        assertTrue(ReplySize.fits(2, 2L << 20, 1L << 20));
        assertFalse(ReplySize.fits(3, 3L << 20, 1));
        assertTrue(ReplySize.MAX_BATCH_BYTES <= 3L << 20, "a margin under 4 MiB for framing");
    }

    @Test
    void noSingleItemOrMessageCanExceedWhatADefaultClientReads() {
        assertTrue(dev.forkd.server.queue.QueueLimits.defaults().maxItemBytes() <= ReplySize.MAX_ITEM_BYTES);
        assertTrue(dev.forkd.server.pipe.PipeLimits.defaults().maxMessageBytes() <= ReplySize.MAX_ITEM_BYTES);
        assertTrue(dev.forkd.server.shared.SharedStore.Limits.DEFAULT.maxScalarBytes() <= ReplySize.MAX_ITEM_BYTES);
    }
}
