package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.memory.MemoryBudget;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Output logs charge the server's budget and shrink, oldest first, when it is short. */
class OutputLogBudgetTest {

    private static byte[] bytes(int n, char c) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) c);
        return b;
    }

    @Test
    void keptBytesAreChargedAndFreedWhenTheRecordGoes() {
        MemoryBudget budget = new MemoryBudget(1000);
        OutputLog log = new OutputLog(600, 0, budget);
        log.append(OutputLog.Stream.STDOUT, bytes(400, 'a'));
        assertEquals(400, budget.used());
        log.append(OutputLog.Stream.STDOUT, bytes(400, 'b'));
        assertEquals(600, log.kept()); // its own cap
        assertEquals(600, budget.used());
        log.free();
        assertEquals(0, budget.used());
        log.append(OutputLog.Stream.STDOUT, bytes(10, 'c'));
        assertEquals(0, budget.used(), "a freed log keeps nothing more");
    }

    @Test
    void aShortBudgetDropsTheOldestOutputAsTheCapDoes() {
        MemoryBudget budget = new MemoryBudget(1000);
        budget.reserve(700, "others");
        OutputLog log = new OutputLog(10_000, 0, budget);
        log.append(OutputLog.Stream.STDOUT, bytes(200, 'a'));
        log.append(OutputLog.Stream.STDOUT, bytes(200, 'b'));
        assertEquals(300, log.kept());
        assertEquals(1000, budget.used());
        assertEquals(100, log.start());
        var gap = assertInstanceOf(OutputLog.Read.Gap.class, log.read(0, 1000));
        assertEquals(100, gap.resumedAt());
        var data = assertInstanceOf(OutputLog.Read.Data.class, log.read(200, 1000));
        assertArrayEquals(bytes(200, 'b'), data.chunks().getFirst().bytes(), "the newest output survives");
    }

    @Test
    void withNoBudgetLeftTheLogKeepsNothingAndStillCounts() {
        MemoryBudget budget = new MemoryBudget(100);
        budget.reserve(100, "others");
        OutputLog log = new OutputLog(10_000, 0, budget);
        log.append(OutputLog.Stream.STDERR, ByteBuffer.wrap(bytes(50, 'x')), Long.MAX_VALUE);
        assertEquals(0, log.kept());
        assertEquals(50, log.end());
        assertEquals(100, budget.used());
        budget.release(100);
        log.append(OutputLog.Stream.STDERR, bytes(30, 'y'));
        assertEquals(30, log.kept());
        assertEquals(30, budget.used());
    }

    @Test
    void aHoldingWatcherCannotKeepMoreThanTheBudget() {
        MemoryBudget budget = new MemoryBudget(500);
        OutputLog log = new OutputLog(100, 10_000, budget);
        for (int i = 0; i < 20; i++) {
            log.append(OutputLog.Stream.STDOUT, bytes(100, 'z'), 0); // the holder is at 0
        }
        assertTrue(log.kept() <= 500, "kept " + log.kept());
        assertEquals(log.kept(), budget.used());
    }
}
