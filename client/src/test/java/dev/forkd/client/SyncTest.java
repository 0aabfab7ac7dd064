package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SyncTest {

    static TestServer server;
    static Forkd forkd;
    static Forkd other;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        forkd = server.connect();
        other = server.connect();
    }

    @AfterAll
    static void stop() throws Exception {
        other.close();
        forkd.close();
        server.close();
    }

    @Test
    void aHeldLockMakesOthersWaitAndTryLockTimesOutAsFalse() throws Exception {
        String name = TestServer.unique("lock");
        ForkdLock mine = forkd.lock(name);
        ForkdLock theirs = other.lock(name);
        mine.lock();
        long first = mine.fencingToken();
        assertTrue(first > 0);
        assertFalse(theirs.tryLock());
        long start = System.nanoTime();
        assertFalse(theirs.tryLock(300, TimeUnit.MILLISECONDS));
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(250), "tryLock returned before its timeout");
        CompletableFuture<Long> waiting = CompletableFuture.supplyAsync(() -> {
            theirs.lock();
            return theirs.fencingToken();
        });
        assertThrows(TimeoutException.class, () -> waiting.get(300, TimeUnit.MILLISECONDS));
        mine.unlock();
        long second = waiting.get(30, TimeUnit.SECONDS);
        assertTrue(second > first, "the token grows: " + first + " then " + second);
        assertFalse(theirs.wasAbandoned());
        theirs.unlock();
        assertTrue(mine.tryLock(5, TimeUnit.SECONDS));
        mine.unlock();
    }

    @Test
    void lockInterruptiblyGivesUpWhenInterrupted() throws Exception {
        String name = TestServer.unique("lock");
        forkd.lock(name).lock();
        ForkdLock theirs = other.lock(name);
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                theirs.lockInterruptibly();
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        waiter.start();
        assertThrows(TimeoutException.class, () -> outcome.get(300, TimeUnit.MILLISECONDS));
        waiter.interrupt();
        assertTrue(outcome.get(30, TimeUnit.SECONDS) instanceof InterruptedException, "interrupted: " + outcome.get());
        forkd.lock(name).unlock();
        assertTrue(theirs.tryLock(5, TimeUnit.SECONDS), "the interrupted wait left no claim on the lock");
        theirs.unlock();
        theirs.lockInterruptibly();
        assertFalse(forkd.lock(name).tryLock());
        theirs.unlock();
    }

    @Test
    void unlockingALockAnotherSessionHoldsIsRefusedWithAReason() {
        String name = TestServer.unique("lock");
        ForkdLock theirs = other.lock(name);
        theirs.lock();
        ForkdException e = assertThrows(ForkdException.class, forkd.lock(name)::unlock);
        assertEquals(Status.Code.FAILED_PRECONDITION, e.code());
        assertEquals(dev.forkd.v1.ErrorReason.LOCK_NOT_HELD, e.reason(), e.toString());
        theirs.unlock();
        ForkdException missing = assertThrows(ForkdException.class, forkd.lock(TestServer.unique("never"))::unlock);
        assertEquals(Status.Code.NOT_FOUND, missing.code());
        assertEquals(dev.forkd.v1.ErrorReason.SYNC_PRIMITIVE_NOT_FOUND, missing.reason());
    }

    @Test
    void aLockWhoseHolderWasKilledPassesOnAsAbandoned() throws Exception {
        String name = TestServer.unique("lock");
        ForkdProcess holder = forkd.start(new ProcessSpec(TestServer.java(LockHolder.class, name), java.util.Map.of(),
                java.util.Optional.empty(), java.util.Optional.empty(), false, false));
        try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.stdout(), StandardCharsets.UTF_8))) {
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("held "), "the child said: " + line);
            long childToken = Long.parseLong(line.substring("held ".length()));
            ForkdLock lock = forkd.lock(name);
            assertFalse(lock.tryLock(), "the child holds it");
            holder.kill();
            assertTrue(lock.tryLock(30, TimeUnit.SECONDS), "the killed holder's lock passes on");
            assertTrue(lock.wasAbandoned());
            assertTrue(lock.fencingToken() > childToken);
            lock.unlock();
        }
        assertTrue(holder.join(Duration.ofSeconds(30)));
        assertEquals(-9, holder.exitCode().orElseThrow());
    }

    @Test
    void conditionAwaitReleasesTheLockUntilSignalled() throws Exception {
        String name = TestServer.unique("lock");
        ForkdLock mine = forkd.lock(name);
        Condition changed = mine.newCondition();
        ForkdLock theirs = other.lock(name);
        Condition theirChanged = theirs.newCondition();
        mine.lock();
        CompletableFuture<Boolean> signaller = CompletableFuture.supplyAsync(() -> {
            theirs.lock(); // possible only while the waiter has released it
            theirChanged.signal();
            theirs.unlock();
            return true;
        });
        changed.await();
        assertTrue(signaller.get(30, TimeUnit.SECONDS));
        // Held again after the wait: the other client cannot take it.
        assertFalse(theirs.tryLock());
        assertFalse(changed.await(200, TimeUnit.MILLISECONDS), "no signal: the wait times out as false");
        assertTrue(changed.awaitNanos(TimeUnit.MILLISECONDS.toNanos(100)) <= 0);
        assertFalse(changed.awaitUntil(new java.util.Date(System.currentTimeMillis() + 100)));
        CompletableFuture<Void> all = CompletableFuture.runAsync(() -> {
            theirs.lock();
            theirChanged.signalAll();
            theirs.unlock();
        });
        changed.awaitUninterruptibly();
        all.get(30, TimeUnit.SECONDS);
        mine.unlock();
    }

    @Test
    void semaphoreCountsPermitsAndGivesThemBackWithTheSession() throws Exception {
        String name = TestServer.unique("sem");
        ForkdSemaphore sem = forkd.semaphore(name, 2);
        assertEquals(2, sem.availablePermits());
        sem.acquire();
        sem.acquireUninterruptibly();
        assertEquals(0, sem.availablePermits());
        assertFalse(sem.tryAcquire());
        assertFalse(sem.tryAcquire(200, TimeUnit.MILLISECONDS));
        sem.release();
        assertTrue(sem.tryAcquire(5, TimeUnit.SECONDS));
        try (Forkd third = server.connect()) {
            ForkdSemaphore theirs = third.semaphore(name, 2);
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                try {
                    theirs.acquire();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThrows(TimeoutException.class, () -> waiting.get(200, TimeUnit.MILLISECONDS));
            sem.release();
            waiting.get(30, TimeUnit.SECONDS);
        }
        // The third client's session ended holding one permit: it came back.
        assertTrue(sem.tryAcquire(30, TimeUnit.SECONDS));
    }

    @Test
    void eventWakesEveryWaiterWhenSet() throws Exception {
        ForkdEvent event = forkd.event(TestServer.unique("event"));
        ForkdEvent theirs = other.event(event.name());
        assertFalse(event.isSet());
        assertFalse(event.await(Duration.ofMillis(200)), "a timeout is a result");
        CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> {
            try {
                theirs.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThrows(TimeoutException.class, () -> waiter.get(200, TimeUnit.MILLISECONDS));
        event.set();
        waiter.get(30, TimeUnit.SECONDS);
        assertTrue(theirs.isSet());
        assertTrue(theirs.await(Duration.ZERO));
        event.clear();
        assertFalse(theirs.isSet());
    }

    @Test
    void barrierLetsPartiesThroughTogetherLikeCyclicBarrier() throws Exception {
        String name = TestServer.unique("barrier");
        ForkdBarrier mine = forkd.barrier(name, 2);
        ForkdBarrier theirs = other.barrier(name, 2);
        assertEquals(2, mine.getParties());
        CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> {
            try {
                return mine.await();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        java.util.concurrent.locks.LockSupport.parkNanos(1); // no ordering needed: indices are checked as a set
        int second = theirs.await(30, TimeUnit.SECONDS);
        int firstIndex = first.get(30, TimeUnit.SECONDS);
        assertEquals(java.util.Set.of(0, 1), java.util.Set.of(firstIndex, second));
        assertEquals(0, mine.getNumberWaiting());
        assertFalse(mine.isBroken());
        // A timeout breaks it for everyone, until reset.
        assertThrows(TimeoutException.class, () -> mine.await(200, TimeUnit.MILLISECONDS));
        assertTrue(mine.isBroken());
        assertThrows(BrokenBarrierException.class, theirs::await);
        mine.reset();
        assertFalse(mine.isBroken());
        mine.abort();
        assertTrue(theirs.isBroken());
        assertThrows(BrokenBarrierException.class, () -> theirs.await(5, TimeUnit.SECONDS));
    }
}
