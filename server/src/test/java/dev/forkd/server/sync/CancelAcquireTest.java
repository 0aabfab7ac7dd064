package dev.forkd.server.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.sync.SyncResults.Grant;
import dev.forkd.server.sync.SyncResults.Undone;
import dev.forkd.server.sync.SyncTableTest.Result;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An Acquire its caller gave up on without seeing the answer (an interrupt, its own deadline) is
 * undone by CancelAcquire, whichever way the race with the grant went: a grant nobody saw is never
 * left held.
 */
@Timeout(20)
class CancelAcquireTest {

    private final ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1);
    private final SyncTable table = new SyncTable(timers, Set.of("s1", "s2", "s3")::contains,
            new SyncTable.Limits(5, 3));

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    private Result<Grant> acquire(String name, String owner, String waitId) {
        Result<Grant> r = new Result<>();
        table.acquire(name, Optional.empty(), 0, owner, Optional.empty(), waitId, r);
        return r;
    }

    @Test
    void aGrantTheCallerNeverSawIsReleasedAndPassesOn() throws Exception {
        assertTrue(acquire("l", "s1", "").await().acquired());
        Result<Grant> lost = acquire("l", "s2", "w-1");
        Result<Grant> next = acquire("l", "s3", "");
        table.release("l", "s1"); // granted to s2, whose caller has already gone
        assertTrue(lost.await().acquired());
        assertEquals(new Undone(false, true), table.cancelAcquire("l", "s2", "w-1"));
        assertTrue(next.await().acquired(), "the lock went on to the next waiter");
        assertEquals(Optional.of("s3"), table.get("l").holder());
        assertEquals(new Undone(false, false), table.cancelAcquire("l", "s2", "w-1"), "a repeat undoes nothing");
        assertEquals(Optional.of("s3"), table.get("l").holder());
    }

    @Test
    void aWaitingAcquireStopsAndAnswersNotAcquired() throws Exception {
        assertTrue(acquire("l", "s1", "").await().acquired());
        Result<Grant> waiting = acquire("l", "s2", "w-2");
        assertFalse(waiting.isDone());
        assertEquals(new Undone(true, false), table.cancelAcquire("l", "s2", "w-2"));
        assertFalse(waiting.await().acquired());
        assertEquals(0, table.get("l").waiters());
        table.release("l", "s1");
        assertTrue(table.get("l").holder().isEmpty(), "nobody was left waiting to take it");
    }

    @Test
    void anAcquireThatArrivesAfterItsCancelTakesNothing() throws Exception {
        assertEquals(new Undone(false, false), table.cancelAcquire("l", "s2", "w-3"));
        assertThrows(ForkdException.NotFound.class, () -> table.get("l"), "the cancel created nothing");
        Grant late = acquire("l", "s2", "w-3").await();
        assertFalse(late.acquired());
        assertThrows(ForkdException.NotFound.class, () -> table.get("l"), "the late acquire created nothing");
        assertTrue(acquire("l", "s2", "w-3").await().acquired(), "the mark is used once");
    }

    @Test
    void aGrantReleasedSinceIsNotReleasedAgain() throws Exception {
        assertTrue(acquire("l", "s2", "w-4").await().acquired());
        table.release("l", "s2");
        assertTrue(acquire("l", "s2", "").await().acquired());
        assertEquals(new Undone(false, false), table.cancelAcquire("l", "s2", "w-4"),
                "s2 holds it by a later grant, with another token");
        assertEquals(Optional.of("s2"), table.get("l").holder());
    }

    @Test
    void aSemaphorePermitNobodySawComesBack() throws Exception {
        Result<Grant> r = new Result<>();
        table.acquire("sem", Optional.of(SyncKind.SEMAPHORE), 2, "s1", Optional.empty(), "w-5", r);
        assertTrue(r.await().acquired());
        assertEquals(1, table.get("sem").value());
        assertEquals(new Undone(false, true), table.cancelAcquire("sem", "s1", "w-5"));
        assertEquals(2, table.get("sem").value());
    }

    @Test
    void badWaitIdsAreRefusedAndChangeNothing() throws Exception {
        for (String bad : List.of("a b", "x".repeat(65), "é", "w/1")) {
            var e = assertThrows(ForkdException.InvalidArgument.class, () -> acquire("l", "s1", bad));
            assertEquals("wait_id", e.field());
            assertThrows(ForkdException.InvalidArgument.class, () -> table.cancelAcquire("l", "s1", bad));
        }
        var missing = assertThrows(ForkdException.InvalidArgument.class, () -> table.cancelAcquire("l", "s1", ""));
        assertEquals("wait_id", missing.field());
        assertThrows(ForkdException.NotFound.class, () -> table.get("l"), "nothing was created");
        var session = assertThrows(ForkdException.FailedPrecondition.class, () -> table.cancelAcquire("l", "", "w"));
        assertEquals("SESSION_REQUIRED", session.reason());
        assertTrue(acquire("l", "s1", "x".repeat(64)).await().acquired(), "64 characters are fine");
    }

    @Test
    void theMarksAreBoundedOldestFirst() {
        WaitIds ids = new WaitIds(3);
        for (int i = 0; i < 5; i++) {
            ids.cancelEarly("s1", "w" + i);
        }
        assertEquals(3, ids.size());
        assertFalse(ids.cancelledEarly("s1", "w0"));
        assertFalse(ids.cancelledEarly("s1", "w1"));
        assertTrue(ids.cancelledEarly("s1", "w4"));
        assertTrue(ids.cancelledEarly("s1", "w2"));
        assertEquals(1, ids.size());
    }

    @Test
    void aTimeoutStillWorksForAnAcquireWithAnId() throws Exception {
        assertTrue(acquire("l", "s1", "").await().acquired());
        Result<Grant> r = new Result<>();
        table.acquire("l", Optional.empty(), 0, "s2", Optional.of(Duration.ofMillis(20)), "w-6", r);
        assertFalse(r.await().acquired());
        assertEquals(new Undone(false, false), table.cancelAcquire("l", "s2", "w-6"));
        table.release("l", "s1");
        assertFalse(acquire("l", "s2", "w-6").await().acquired(),
                "a cancel after the end marks the id, so a reuse is refused: a client uses a new id per call");
    }
}
