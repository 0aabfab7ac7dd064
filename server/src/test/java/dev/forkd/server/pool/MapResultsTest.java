package dev.forkd.server.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The order a Map stream's results leave in. */
class MapResultsTest {

    private static TaskResult result(long index) {
        return new TaskResult(index, new TaskResult.Outcome.Output(new byte[0]), 1, "p-" + index, 100, "a-1",
                java.time.Instant.EPOCH, java.time.Duration.ZERO);
    }

    private static List<Long> drain(MapResults r) {
        List<Long> out = new ArrayList<>();
        for (TaskResult t = r.next(); t != null; t = r.next()) {
            out.add(t.index());
        }
        return out;
    }

    @Test
    void inOrderAResultWaitsForThoseBeforeItAndSkippedIndicesArePassedOver() {
        MapResults r = new MapResults(true);
        r.add(result(2));
        r.add(result(1));
        assertNull(r.next(), "0 has not come");
        r.add(result(0));
        assertEquals(List.of(0L, 1L, 2L), drain(r));
        r.skip(4);
        r.add(result(5));
        assertEquals(List.of(), drain(r), "3 has not come");
        r.add(result(3));
        assertEquals(List.of(3L, 5L), drain(r));
        assertEquals(5, r.sent());
        assertEquals(6, r.accountedFor());
    }

    @Test
    void unorderedResultsLeaveAsTheyCome() {
        MapResults r = new MapResults(false);
        r.add(result(2));
        r.skip(1);
        r.add(result(0));
        assertEquals(List.of(2L, 0L), drain(r));
        assertEquals(3, r.accountedFor());
        r.add(result(3));
        r.clear();
        assertNull(r.next());
    }
}
