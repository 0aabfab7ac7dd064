package dev.forkd.server.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DispatchWindowTest {

    @Test
    void oneAtATimeUntilAnAnswerSaysHowLongTasksTake() {
        assertEquals(DispatchWindow.START, new DispatchWindow().window(null));
        assertEquals(1, DispatchWindow.START);
    }

    @Test
    void shortTasksQueueTheirCoverUpToTheMaximum() {
        DispatchWindow w = new DispatchWindow();
        w.answered(Duration.ofMillis(1));
        assertEquals(5, w.window(null)); // 5 ms of work queued
        w.idle();
        w.answered(Duration.ofNanos(20_000));
        assertEquals(DispatchWindow.MAX, w.window(null));
        assertEquals(DispatchWindow.MAX, w.window(Duration.ofNanos(10_000)));
    }

    @Test
    void longTasksAreGivenOneAtATime() {
        DispatchWindow w = new DispatchWindow();
        w.answered(Duration.ofMillis(60));
        assertEquals(1, w.window(null));
        assertEquals(1, w.window(Duration.ofMillis(1)));
    }

    @Test
    void aWorkerWhoseTaskRunsLongerThanTheOthersIsGivenNothingMore() {
        DispatchWindow w = new DispatchWindow();
        w.answered(Duration.ofNanos(50_000));
        assertEquals(DispatchWindow.MAX, w.window(Duration.ofNanos(40_000)));
        assertEquals(1, w.window(Duration.ofNanos(50_000)));
        assertEquals(1, w.window(Duration.ofSeconds(3)));
    }

    @Test
    void theEstimateFollowsTheLastAnswersAndStartsOverWhenThePoolIsIdle() {
        DispatchWindow w = new DispatchWindow();
        w.answered(Duration.ofMillis(60));
        for (int i = 0; i < 40; i++) {
            w.answered(Duration.ofNanos(50_000));
        }
        assertEquals(DispatchWindow.MAX, w.window(null)); // the long one is forgotten: ~50 µs a task now
        w.idle();
        assertEquals(DispatchWindow.START, w.window(null));
    }
}
