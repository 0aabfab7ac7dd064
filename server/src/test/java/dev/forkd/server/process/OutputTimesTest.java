package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The capture times behind {@code logs --since}: exact per chunk, bounded, never missing later output. */
class OutputTimesTest {

    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    @Test
    void eachChunkAnswersForItsOwnTime() {
        OutputTimes times = new OutputTimes();
        times.captured(0, 4, T0, 0);
        times.captured(4, 4, T0.plusNanos(1), 0);
        times.captured(8, 4, T0.plusSeconds(10), 0);
        assertEquals(0, times.offsetSince(T0, 0, 12));
        assertEquals(4, times.offsetSince(T0.plusNanos(1), 0, 12));
        assertEquals(8, times.offsetSince(T0.plusSeconds(5), 0, 12));
        assertEquals(12, times.offsetSince(T0.plusSeconds(11), 0, 12), "nothing since: the end");
        assertEquals(0, times.offsetSince(Instant.MIN, 0, 12));
        assertEquals(12, times.offsetSince(Instant.MAX, 0, 12));
    }

    @Test
    void spansTheCapDroppedAreLetGoAndTheAnswerIsNeverBeforeTheLogStart() {
        OutputTimes times = new OutputTimes();
        times.captured(0, 10, T0, 0);
        times.captured(10, 10, T0.plusSeconds(1), 0);
        times.captured(20, 10, T0.plusSeconds(2), 15); // the log now starts at 15
        assertEquals(2, times.spans());
        assertEquals(15, times.offsetSince(T0, 15, 30));
    }

    @Test
    void manyChunksStayBoundedAndMergingNeverMissesLaterOutput() {
        OutputTimes times = new OutputTimes();
        int chunks = 10 * OutputTimes.MAX_SPANS;
        for (int i = 0; i < chunks; i++) {
            times.captured(i * 10L, 10, T0.plusMillis(i), 0);
        }
        assertTrue(times.spans() <= OutputTimes.MAX_SPANS, "spans: " + times.spans());
        for (int i = 0; i < chunks; i += 97) {
            long at = times.offsetSince(T0.plusMillis(i), 0, chunks * 10L);
            assertTrue(at <= i * 10L, "chunk " + i + " (offset " + i * 10 + ") captured then, answer " + at);
        }
        // Coarsened, but not to nothing: the last chunk's time still skips most of the log.
        assertTrue(times.offsetSince(T0.plusMillis(chunks - 1), 0, chunks * 10L) > chunks * 9L);
    }
}
