package dev.forkd.server.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.sync.SyncResults.BarrierPassed;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.ConditionWoken;
import dev.forkd.server.sync.SyncResults.Grant;
import dev.forkd.server.sync.SyncResults.Pending;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class SyncTableTest {

    private final ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1);
    private final Set<String> alive = new HashSet<>(List.of("s1", "s2", "s3", "s4"));
    private final SyncTable table = new SyncTable(timers, s -> {
        synchronized (alive) {
            return alive.contains(s);
        }
    }, new SyncTable.Limits(5, 3));

    private static final Optional<Duration> FOREVER = Optional.empty();
    private static final Optional<Duration> NOW = Optional.of(Duration.ZERO);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    /** A callback that completes a future (or fails it). */
    static final class Result<T> extends CompletableFuture<T> implements Callback<T> {
        @Override
        public void done(T r) {
            complete(r);
        }

        @Override
        public void failed(ForkdException e) {
            completeExceptionally(e);
        }

        T await() throws Exception {
            return get(5, TimeUnit.SECONDS);
        }
    }

    private Grant acquireNow(String name, String owner) throws Exception {
        Result<Grant> r = new Result<>();
        table.acquire(name, Optional.empty(), 0, owner, FOREVER, r);
        assertTrue(r.isDone(), owner + " should get " + name + " at once");
        return r.await();
    }

    private Result<Grant> acquireLater(String name, String owner) {
        Result<Grant> r = new Result<>();
        table.acquire(name, Optional.empty(), 0, owner, FOREVER, r);
        assertFalse(r.isDone(), owner + " should wait for " + name);
        return r;
    }

    private void endSession(String s) {
        synchronized (alive) {
            alive.remove(s);
        }
        table.sessionEnded(s);
    }

    @Test
    void lockPassesToWaitersInArrivalOrderWithGrowingTokens() throws Exception {
        Grant first = acquireNow("l", "s1");
        Result<Grant> second = acquireLater("l", "s2");
        Result<Grant> third = acquireLater("l", "s3");
        table.release("l", "s1");
        Grant g2 = second.await();
        assertFalse(third.isDone());
        table.release("l", "s2");
        Grant g3 = third.await();
        assertTrue(first.fencingToken() < g2.fencingToken() && g2.fencingToken() < g3.fencingToken());
        assertFalse(g2.abandoned());
        assertEquals(Optional.of("s3"), table.get("l").holder());
    }

    @Test
    void rlockCountsReentryAndReleasesOnlyAtZero() throws Exception {
        Result<Grant> r = new Result<>();
        table.acquire("r", Optional.of(SyncKind.RLOCK), 0, "s1", FOREVER, r);
        Grant again = acquireNow("r", "s1");
        assertEquals(2, again.depth());
        assertEquals(r.await().fencingToken(), again.fencingToken());
        Result<Grant> other = acquireLater("r", "s2");
        assertEquals(1, table.release("r", "s1").depth());
        assertFalse(other.isDone());
        assertEquals(0, table.release("r", "s1").depth());
        assertTrue(other.await().acquired());
    }

    @Test
    void releaseByNonOwnerIsRefusedAndChangesNothing() throws Exception {
        acquireNow("l", "s1");
        var e = assertThrows(ForkdException.FailedPrecondition.class, () -> table.release("l", "s2"));
        assertEquals("LOCK_NOT_HELD", e.reason());
        assertEquals(Optional.of("s1"), table.get("l").holder());
        table.release("l", "s1");
        var free = assertThrows(ForkdException.FailedPrecondition.class, () -> table.release("l", "s1"));
        assertTrue(free.getMessage().contains("not held"), free.getMessage());
    }

    @Test
    void timeoutIsAResultAndLeavesNoWaiter() throws Exception {
        acquireNow("l", "s1");
        Result<Grant> r = new Result<>();
        table.acquire("l", Optional.empty(), 0, "s2", Optional.of(Duration.ofMillis(50)), r);
        assertFalse(r.await().acquired());
        assertEquals(0, table.get("l").waiters());
        Result<Grant> tried = new Result<>();
        table.acquire("l", Optional.empty(), 0, "s2", NOW, tried);
        assertFalse(tried.await().acquired());
    }

    @Test
    void endedSessionPassesLockToNextWaiterAsAbandoned() throws Exception {
        Grant dead = acquireNow("l", "s1");
        Result<Grant> next = acquireLater("l", "s2");
        endSession("s1");
        Grant g = next.await();
        assertTrue(g.abandoned());
        assertTrue(g.fencingToken() > dead.fencingToken());
        table.release("l", "s2");
        assertFalse(acquireNow("l", "s3").abandoned(), "told only once");
    }

    @Test
    void endedSessionWithNoWaiterLeavesLockFreeAndTellsTheNextAcquirer() throws Exception {
        acquireNow("l", "s1");
        endSession("s1");
        assertTrue(table.get("l").holder().isEmpty());
        assertTrue(acquireNow("l", "s2").abandoned());
    }

    @Test
    void callsWithoutALiveSessionAreRefused() {
        var none = assertThrows(ForkdException.FailedPrecondition.class,
                () -> table.acquire("l", Optional.empty(), 0, "", FOREVER, new Result<>()));
        assertEquals("SESSION_REQUIRED", none.reason());
        assertThrows(ForkdException.NotFound.class,
                () -> table.acquire("l", Optional.empty(), 0, "gone", FOREVER, new Result<>()));
    }

    @Test
    void cancelledWaiterIsForgotten() throws Exception {
        acquireNow("l", "s1");
        Result<Grant> r = new Result<>();
        Pending p = table.acquire("l", Optional.empty(), 0, "s2", FOREVER, r);
        p.cancel();
        assertEquals(0, table.get("l").waiters());
        Result<Grant> s3 = acquireLater("l", "s3");
        table.release("l", "s1");
        assertTrue(s3.await().acquired());
        assertFalse(r.isDone());
    }

    @Test
    void semaphoreNeverGrantsMoreThanItsValueAndGetsPermitsBackFromEndedSessions() throws Exception {
        Result<Grant> a = new Result<>();
        table.acquire("sem", Optional.of(SyncKind.BOUNDED_SEMAPHORE), 2, "s1", FOREVER, a);
        assertTrue(a.await().acquired());
        Result<Grant> b = new Result<>();
        table.acquire("sem", Optional.empty(), 0, "s2", FOREVER, b);
        assertTrue(b.await().acquired());
        Result<Grant> c = acquireLater("sem", "s3");
        assertEquals(0, table.get("sem").value());
        endSession("s1");
        assertTrue(c.await().abandoned());
        table.release("sem", "s2");
        table.release("sem", "s3");
        assertEquals(2, table.get("sem").value());
        var over = assertThrows(ForkdException.FailedPrecondition.class, () -> table.release("sem", "s2"));
        assertEquals("SEMAPHORE_OVER_BOUND", over.reason());
        assertEquals(2, table.get("sem").value());
    }

    @Test
    void plainSemaphoreMayBeReleasedAboveItsStart() throws Exception {
        Result<Grant> a = new Result<>();
        table.acquire("sem", Optional.of(SyncKind.SEMAPHORE), 1, "s1", FOREVER, a);
        table.release("sem", "");
        table.release("sem", "");
        assertEquals(2, table.get("sem").value());
    }

    @Test
    void eventWakesAllWaitersAndTimesOutWhenClear() throws Exception {
        Result<Boolean> w1 = new Result<>();
        Result<Boolean> w2 = new Result<>();
        table.waitEvent("e", FOREVER, w1);
        table.waitEvent("e", FOREVER, w2);
        assertEquals(2, table.setEvent("e"));
        assertTrue(w1.await() && w2.await());
        Result<Boolean> now = new Result<>();
        table.waitEvent("e", NOW, now);
        assertTrue(now.await());
        table.clearEvent("e");
        Result<Boolean> late = new Result<>();
        table.waitEvent("e", Optional.of(Duration.ofMillis(30)), late);
        assertFalse(late.await());
        assertFalse(table.get("e").isSet());
    }

    @Test
    void conditionWaitReleasesTheLockAndNotifyWakesAfterTheNotifierReleases() throws Exception {
        Result<Grant> held = new Result<>();
        table.acquire("m", Optional.of(SyncKind.RLOCK), 0, "s1", FOREVER, held);
        Result<ConditionWoken> waiting = new Result<>();
        table.waitCondition("c", "m", "s1", FOREVER, waiting);
        assertTrue(table.get("m").holder().isEmpty(), "wait released the lock");
        acquireNow("m", "s2");
        assertEquals(1, table.notifyCondition("c", "", "s2", 1, false));
        assertFalse(waiting.isDone(), "the notifier still holds the lock");
        table.release("m", "s2");
        ConditionWoken w = waiting.await();
        assertTrue(w.notified());
        assertEquals(Optional.of("s1"), table.get("m").holder());
    }

    @Test
    void conditionTimeoutReacquiresTheLockAtTheSameDepth() throws Exception {
        Result<Grant> held = new Result<>();
        table.acquire("m", Optional.of(SyncKind.RLOCK), 0, "s1", FOREVER, held);
        acquireNow("m", "s1");
        Result<ConditionWoken> w = new Result<>();
        table.waitCondition("c", "m", "s1", Optional.of(Duration.ofMillis(30)), w);
        assertFalse(w.await().notified());
        assertEquals(2, table.get("m").depth());
    }

    @Test
    void conditionCallsNeedTheLock() {
        var e = assertThrows(ForkdException.FailedPrecondition.class,
                () -> table.notifyCondition("c", "m", "s1", 1, false));
        assertEquals("LOCK_NOT_HELD", e.reason());
    }

    @Test
    void barrierPassesWithArrivalIndexes() throws Exception {
        List<Result<BarrierPassed>> rs = IntStream.range(0, 3).mapToObj(i -> new Result<BarrierPassed>()).toList();
        table.waitBarrier("b", 3, "s1", FOREVER, rs.get(0));
        table.waitBarrier("b", 0, "s2", FOREVER, rs.get(1));
        assertFalse(rs.get(1).isDone());
        table.waitBarrier("b", 3, "", FOREVER, rs.get(2));
        for (int i = 0; i < 3; i++) {
            assertEquals(new BarrierPassed(i, false, false), rs.get(i).await());
        }
        assertEquals(0, table.get("b").arrived());
    }

    @Test
    void partyWhoseSessionEndsBreaksTheBarrierForTheOthers() throws Exception {
        Result<BarrierPassed> a = new Result<>();
        Result<BarrierPassed> b = new Result<>();
        table.waitBarrier("b", 3, "s1", FOREVER, a);
        table.waitBarrier("b", 3, "s2", FOREVER, b);
        endSession("s2");
        assertTrue(a.await().broken());
        assertTrue(b.await().broken());
        Result<BarrierPassed> late = new Result<>();
        table.waitBarrier("b", 3, "s3", FOREVER, late);
        assertTrue(late.await().broken(), "broken until reset");
        table.resetBarrier("b");
        assertFalse(table.get("b").broken());
    }

    @Test
    void barrierTimeoutAndAbortBreakIt() throws Exception {
        Result<BarrierPassed> other = new Result<>();
        table.waitBarrier("b", 3, "", FOREVER, other);
        Result<BarrierPassed> timed = new Result<>();
        table.waitBarrier("b", 3, "", Optional.of(Duration.ofMillis(30)), timed);
        assertEquals(new BarrierPassed(0, true, true), timed.await());
        assertEquals(new BarrierPassed(0, true, false), other.await());
        table.resetBarrier("b");
        Result<BarrierPassed> c = new Result<>();
        table.waitBarrier("b", 3, "", FOREVER, c);
        assertEquals(1, table.abortBarrier("b"));
        assertTrue(c.await().broken());
    }

    @Test
    void cancelledBarrierPartyBreaksIt() throws Exception {
        Result<BarrierPassed> a = new Result<>();
        table.waitBarrier("b", 3, "", FOREVER, a);
        Pending p = table.waitBarrier("b", 3, "", FOREVER, new Result<>());
        p.cancel();
        assertTrue(a.await().broken());
    }

    @Test
    void wrongKindNamesBothKindsAndChangesNothing() throws Exception {
        acquireNow("l", "s1");
        var e = assertThrows(ForkdException.FailedPrecondition.class, () -> table.setEvent("l"));
        assertEquals("WRONG_KIND", e.reason());
        assertTrue(e.getMessage().contains("a lock") && e.getMessage().contains("an event"), e.getMessage());
        assertEquals(SyncKind.LOCK, table.get("l").kind());
        assertThrows(ForkdException.FailedPrecondition.class,
                () -> table.acquire("l", Optional.of(SyncKind.SEMAPHORE), 0, "s2", FOREVER, new Result<>()));
    }

    @Test
    void unknownNamesAndLimits() throws Exception {
        assertThrows(ForkdException.NotFound.class, () -> table.release("nope", "s1"));
        assertThrows(ForkdException.NotFound.class, () -> table.abortBarrier("nope"));
        for (int i = 0; i < 5; i++) {
            table.setEvent("e" + i);
        }
        var full = assertThrows(ForkdException.ResourceExhausted.class, () -> table.setEvent("e5"));
        assertTrue(full.getMessage().contains("max 5"), full.getMessage());
        assertThrows(ForkdException.InvalidArgument.class, () -> table.setEvent(""));
    }

    @Test
    void waitersPerNameAreBounded() throws Exception {
        acquireNow("l", "s1");
        acquireLater("l", "s2");
        acquireLater("l", "s3");
        acquireLater("l", "s4");
        var e = assertThrows(ForkdException.ResourceExhausted.class,
                () -> table.acquire("l", Optional.empty(), 0, "s2", FOREVER, new Result<>()));
        assertEquals("TOO_MANY_WAITERS", e.reason());
    }

    @Test
    void deleteRefusesAHeldLockAndCreateRefusesATakenName() throws Exception {
        table.create("l", SyncKind.LOCK, 0, 0, "");
        assertThrows(ForkdException.AlreadyExists.class, () -> table.create("l", SyncKind.EVENT, 0, 0, ""));
        acquireNow("l", "s1");
        assertThrows(ForkdException.FailedPrecondition.class, () -> table.delete("l"));
        table.release("l", "s1");
        assertEquals(SyncKind.LOCK, table.delete("l"));
        assertThrows(ForkdException.NotFound.class, () -> table.get("l"));
    }
}
