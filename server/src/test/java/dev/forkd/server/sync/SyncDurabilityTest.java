package dev.forkd.server.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.store.SqliteStateStore;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import dev.forkd.server.sync.SyncResults.BarrierPassed;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.Grant;
import dev.forkd.server.sync.SyncResults.Info;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sync table kept in a real SQLite store: closing the store and opening a new table on it is a
 * restart of the server.
 */
@Timeout(120)
class SyncDurabilityTest {

    private static final Optional<Duration> FOREVER = Optional.empty();

    @TempDir
    Path dir;

    private final ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

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
            return get(30, TimeUnit.SECONDS);
        }
    }

    private SqliteStateStore open() {
        return SqliteStateStore.open(dir.resolve("state.db"));
    }

    private SyncTable table(StateStore store, Set<String> alive) {
        return new SyncTable(timers, alive::contains, SyncTable.Limits.DEFAULT, ServerEvents.NONE, System::nanoTime,
                store);
    }

    private static Grant acquire(SyncTable t, String name, Optional<SyncKind> kind, int value, String owner)
            throws Exception {
        Result<Grant> r = new Result<>();
        t.acquire(name, kind, value, owner, FOREVER, r);
        Grant g = r.await();
        assertTrue(g.acquired(), owner + " should get " + name);
        return g;
    }

    /** Builds one of everything, held by s1, then stops without waiting for the last writes. */
    private long fillAndStop() throws Exception {
        long lastToken;
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s1", "s2"));
            acquire(t, "l", Optional.of(SyncKind.LOCK), 0, "s1");
            acquire(t, "r", Optional.of(SyncKind.RLOCK), 0, "s1");
            acquire(t, "r", Optional.of(SyncKind.RLOCK), 0, "s1");
            acquire(t, "sem", Optional.of(SyncKind.BOUNDED_SEMAPHORE), 3, "s1");
            lastToken = acquire(t, "sem", Optional.of(SyncKind.BOUNDED_SEMAPHORE), 3, "s1").fencingToken();
            t.setEvent("set");
            t.setEvent("cleared");
            t.clearEvent("cleared");
            t.create("party", SyncKind.BARRIER, 0, 3, "");
            t.create("broken", SyncKind.BARRIER, 0, 2, "");
            t.abortBarrier("broken");
            t.create("cond", SyncKind.CONDITION, 0, 0, "l");
            t.create("gone", SyncKind.EVENT, 0, 0, "");
            t.delete("gone");
        }
        return lastToken;
    }

    @Test
    void locksSemaphoresEventsBarriersAndConditionsComeBackAsTheyWere() throws Exception {
        long lastToken = fillAndStop();
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s1", "s2"));
            Info l = t.get("l");
            assertEquals(Optional.of("s1"), l.holder());
            Info r = t.get("r");
            assertEquals(SyncKind.RLOCK, r.kind());
            assertEquals(2, r.depth());
            Info sem = t.get("sem");
            assertEquals(SyncKind.BOUNDED_SEMAPHORE, sem.kind());
            assertEquals(1, sem.value());
            assertEquals(3, sem.initialValue());
            assertEquals(lastToken, sem.fencingToken());
            assertTrue(t.get("set").isSet());
            assertFalse(t.get("cleared").isSet());
            assertEquals(3, t.get("party").parties());
            assertFalse(t.get("party").broken());
            assertTrue(t.get("broken").broken());
            assertEquals("l", t.get("cond").lock());
            assertEquals(List.of("broken", "cond", "l", "party", "r", "sem", "set", "cleared").stream().sorted().toList(),
                    t.list(Optional.empty()).stream().map(Info::name).toList(), "a deleted one stays deleted");

            // The holder that came back still holds: a second session waits, and gets it on release.
            Result<Grant> waiting = new Result<>();
            t.acquire("l", Optional.empty(), 0, "s2", FOREVER, waiting);
            assertFalse(waiting.isDone());
            t.release("l", "s1");
            Grant next = waiting.await();
            assertFalse(next.abandoned(), "released by its holder, not abandoned");
            assertTrue(next.fencingToken() > lastToken, next.fencingToken() + " after " + lastToken);
            assertEquals(1, t.release("r", "s1").depth());
            t.release("sem", "s1");
            t.release("sem", "s1");
            assertEquals(3, t.get("sem").value());
            Result<Boolean> set = new Result<>();
            t.waitEvent("set", Optional.of(Duration.ZERO), set);
            assertTrue(set.await());
        }
    }

    @Test
    void aHolderWhoseSessionDidNotComeBackPassesItsLocksOnAbandoned() throws Exception {
        fillAndStop();
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s2")); // s1 is gone
            assertEquals(Optional.empty(), t.get("l").holder());
            assertEquals(0, t.get("r").depth());
            assertEquals(3, t.get("sem").value(), "s1's permits came back");
            assertTrue(acquire(t, "l", Optional.empty(), 0, "s2").abandoned());
            assertTrue(acquire(t, "sem", Optional.empty(), 0, "s2").abandoned());
        }
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s2"));
            assertEquals(Optional.of("s2"), t.get("l").holder(), "the release and the new grant were kept too");
            assertEquals(2, t.get("sem").value());
        }
    }

    /**
     * An Acquire granted just before a crash, whose answer its caller never saw: the caller undoes it
     * by its wait id with the next server, whose restored session still holds the grant. Without the
     * kept wait id the lock stayed held by a caller who believes it does not hold it, and who waits
     * on itself when it tries again.
     */
    @Test
    void aGrantWhoseAnswerWasLostWithTheServerIsUndoneByTheNextOne() throws Exception {
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s1", "s2"));
            Result<Grant> lock = new Result<>();
            t.acquire("l", Optional.of(SyncKind.LOCK), 0, "s1", FOREVER, "w-lock", lock);
            assertTrue(lock.await().acquired());
            Result<Grant> permit = new Result<>();
            t.acquire("sem", Optional.of(SyncKind.SEMAPHORE), 2, "s1", FOREVER, "w-sem", permit);
            assertTrue(permit.await().acquired());
            Result<Grant> undone = new Result<>();
            t.acquire("l2", Optional.of(SyncKind.LOCK), 0, "s1", FOREVER, "w-seen", undone);
            assertTrue(undone.await().acquired());
            assertTrue(t.cancelAcquire("l2", "s1", "w-seen").released(), "undone before the restart");
            t.committed().get(30, TimeUnit.SECONDS);
        }
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s1", "s2"));
            assertEquals(Optional.of("s1"), t.get("l").holder());
            assertEquals(new SyncResults.Undone(false, true), t.cancelAcquire("l", "s1", "w-lock"));
            assertEquals(Optional.empty(), t.get("l").holder(), "the lost grant is released");
            assertEquals(new SyncResults.Undone(false, true), t.cancelAcquire("sem", "s1", "w-sem"));
            assertEquals(2, t.get("sem").value());
            assertEquals(new SyncResults.Undone(false, false), t.cancelAcquire("l2", "s1", "w-seen"),
                    "a wait id undone before the restart stays used up");
            assertEquals(new SyncResults.Undone(false, false), t.cancelAcquire("l", "s1", "w-lock"),
                    "undone once only");
            acquire(t, "l", Optional.empty(), 0, "s2");
            t.committed().get(30, TimeUnit.SECONDS);
        }
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s1", "s2"));
            assertEquals(new SyncResults.Undone(false, false), t.cancelAcquire("l", "s1", "w-lock"),
                    "the used-up mark was removed from the store too");
            assertEquals(Optional.of("s2"), t.get("l").holder());
        }
    }

    /** The kept wait ids are bounded as the in-memory ones are: the oldest go first. */
    @Test
    void keptWaitIdsStayBounded() throws Exception {
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s1"));
            for (int i = 0; i < WaitIds.DEFAULT_MAX + 5; i++) {
                Result<Grant> r = new Result<>();
                t.acquire("l", Optional.of(SyncKind.LOCK), 0, "s1", FOREVER, "w" + i, r);
                assertTrue(r.await().acquired());
                t.release("l", "s1");
            }
            t.committed().get(30, TimeUnit.SECONDS);
            assertEquals(WaitIds.DEFAULT_MAX, store.load(SyncJournal.WAITS_KIND).size());
        }
    }

    @Test
    void aBarrierComesBackEmptyAndStillPasses() throws Exception {
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s1"));
            Result<BarrierPassed> first = new Result<>();
            t.waitBarrier("b", 2, "", FOREVER, first);
            assertFalse(first.isDone());
        }
        try (SqliteStateStore store = open()) {
            SyncTable t = table(store, Set.of("s1"));
            assertEquals(0, t.get("b").arrived(), "waiters are not kept: their calls failed with the server");
            Result<BarrierPassed> a = new Result<>();
            Result<BarrierPassed> b = new Result<>();
            t.waitBarrier("b", 0, "", FOREVER, a);
            t.waitBarrier("b", 0, "", FOREVER, b);
            assertFalse(a.await().broken());
            assertFalse(b.await().broken());
        }
    }

    /**
     * A store that loses, at a moment the test picks, every write not yet handed on: what a SIGKILL
     * does to the writes not yet committed. Their futures never complete, so nothing waiting for them
     * is answered.
     */
    private static final class CrashingStore implements StateStore {
        private final SqliteStateStore store;
        private volatile boolean crashed;

        CrashingStore(SqliteStateStore store) {
            this.store = store;
        }

        void crash() {
            crashed = true;
        }

        @Override
        public boolean keeps() {
            return true;
        }

        @Override
        public CompletableFuture<Void> write(List<StoreWrite> writes) {
            return crashed ? new CompletableFuture<>() : store.write(writes);
        }

        @Override
        public List<StoreRow> load(String kind) {
            return store.load(kind);
        }

        @Override
        public List<String> kinds(String prefix) {
            return store.kinds(prefix);
        }

        @Override
        public void close() {
            store.close();
        }
    }

    @Test
    void aFencingTokenIsNeverIssuedTwiceAcross20RestartsEvenWhenTheLastWritesAreLost() throws Exception {
        Random random = new Random(42);
        long highestAnswered = 0;
        int answered = 0;
        for (int cycle = 0; cycle < 20; cycle++) {
            boolean crash = cycle % 2 == 1;
            CrashingStore store = new CrashingStore(open());
            try {
                SyncTable t = table(store, Set.of("s1", "s2"));
                ConcurrentLinkedQueue<Long> tokens = new ConcurrentLinkedQueue<>();
                List<Result<Grant>> calls = new ArrayList<>();
                // Enough grants to pass a kept mark now and then (it is kept 1,024 ahead).
                int grants = 100 + random.nextInt(1500);
                int crashAt = crash ? random.nextInt(grants) : -1;
                for (int i = 0; i < grants; i++) {
                    if (i == crashAt) {
                        store.crash();
                    }
                    Result<Grant> r = new Result<>();
                    r.thenAccept(g -> tokens.add(g.fencingToken()));
                    String name = random.nextBoolean() ? "a" : "sem";
                    t.acquire(name, Optional.of(name.equals("a") ? SyncKind.LOCK : SyncKind.SEMAPHORE), 0, "s1",
                            FOREVER, r);
                    calls.add(r);
                    t.release(name, "s1");
                }
                if (!crash) {
                    for (Result<Grant> r : calls) {
                        r.await(); // every grant answered once kept
                    }
                    assertEquals(grants, tokens.size());
                    // A deleted lock takes its last token with it: the kept mark must not.
                    for (String name : List.of("a", "sem")) {
                        if (t.list(Optional.empty()).stream().anyMatch(i -> i.name().equals(name))) {
                            t.delete(name);
                        }
                    }
                }
                List<Long> seen = new ArrayList<>(tokens);
                for (long token : seen) {
                    assertTrue(token > highestAnswered, "cycle " + cycle + ": token " + token
                            + " was issued again (an earlier run answered up to " + highestAnswered + ")");
                }
                // Answers to calls still pending may come in any order (on the store's thread or the
                // caller's), but no two carry the same token.
                assertEquals(seen.size(), new java.util.HashSet<>(seen).size(), "a token was issued twice in one run");
                answered += seen.size();
                highestAnswered = Math.max(highestAnswered, seen.stream().mapToLong(Long::longValue).max().orElse(0));
            } finally {
                store.close();
            }
        }
        assertTrue(answered > 1000, "only " + answered + " grants were answered");
    }
}
