package dev.forkd.server.queue;

import static dev.forkd.server.queue.ItemQueueTest.item;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.IdBlocks;
import dev.forkd.server.store.SqliteStateStore;
import dev.forkd.server.store.StateDirectory;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Durable queues on a real SQLite store in a temp dir; reopening the store is the server's restart. */
@Timeout(60)
class DurableQueueTest {

    private static final Optional<Duration> FOREVER = Optional.empty();
    private static final Optional<Duration> NOW = Optional.of(Duration.ZERO);

    @TempDir
    Path dir;

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final QueueLimits limits = new QueueLimits(10, 1000, 10_000, 1024, 1 << 20, 500, 500, 10);
    private StateDirectory stateDir;
    private SqliteStateStore store;

    @AfterEach
    void stop() throws Exception {
        if (store != null) {
            store.close();
        }
        if (stateDir != null) {
            stateDir.close();
        }
        timers.shutdownNow();
    }

    /** Opens the store as a starting server does, and the queues on it. */
    private QueueRegistry start() throws Exception {
        return start(MemoryBudget.unlimited());
    }

    private QueueRegistry start(MemoryBudget memory) throws Exception {
        stateDir = StateDirectory.take(dir);
        store = stateDir.openStore(false, m -> { });
        return new QueueRegistry(limits, timers, memory, ServerEvents.NONE, store);
    }

    /** The server stops; what was committed stays. */
    private void stopServer() throws Exception {
        store.close();
        stateDir.close();
        store = null;
        stateDir = null;
    }

    private static ItemQueue durable(QueueRegistry r, String name, long maxsize) throws Exception {
        var c = r.create(Optional.of(name), maxsize, false, true);
        c.stored().get(30, TimeUnit.SECONDS);
        return c.queue();
    }

    private static Outcomes.Put put(ItemQueue q, String... texts) throws Exception {
        CompletableFuture<Outcomes.Put> done = new CompletableFuture<>();
        q.put(java.util.Arrays.stream(texts).map(ItemQueueTest::item).toList(), FOREVER, done::complete);
        return done.get(30, TimeUnit.SECONDS);
    }

    private static List<String> drain(ItemQueue q) throws Exception {
        CompletableFuture<Outcomes.Take> got = new CompletableFuture<>();
        q.take(500, NOW, got::complete);
        Outcomes.Take t = got.get(30, TimeUnit.SECONDS);
        if (t instanceof Outcomes.Take.TimedOut) {
            return List.of();
        }
        return assertInstanceOf(Outcomes.Take.Items.class, t).items().stream().map(ItemQueueTest::text).toList();
    }

    private static List<String> texts(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> "item-" + i).toList();
    }

    @Test
    void anInMemoryQueuesIdIsNotGivenToAnotherQueueAfterARestart() throws Exception {
        // A client still holding the lost queue's id must get NOT_FOUND, not someone else's queue.
        QueueRegistry queues = start();
        String lost = queues.create(Optional.empty(), 0, false, false).queue().id();
        stopServer();
        QueueRegistry again = start();
        assertThrows(ForkdException.NotFound.class, () -> again.get(lost));
        String next = again.create(Optional.empty(), 0, false, false).queue().id();
        org.junit.jupiter.api.Assertions.assertNotEquals(lost, next);
        assertThrows(ForkdException.NotFound.class, () -> again.get(lost));
    }

    @Test
    void afterARestartExactlyTheUnackedAndUnconsumedItemsAreBackInOrder() throws Exception {
        QueueRegistry queues = start();
        ItemQueue q = durable(queues, "jobs", 100);
        assertInstanceOf(Outcomes.Put.Done.class, put(q, texts(1, 10).toArray(String[]::new)));
        ItemQueueTest.Recorder r = new ItemQueueTest.Recorder();
        QueueConsumer c = q.consume(Optional.empty(), r);
        c.grant(6);
        assertEquals(texts(1, 6), r.texts());
        // 1-3 acked (by tag and through), 4-6 delivered and never acked: the server dies.
        c.ack(List.of(r.got.get(0).tag()), r.got.get(2).tag(), false);
        stopServer();

        QueueRegistry again = start();
        ItemQueue back = again.get("jobs");
        assertTrue(back.durable());
        assertEquals(7, back.snapshot().size());
        assertEquals(100, back.snapshot().maxsize());
        assertEquals(texts(4, 10), drain(back));
    }

    @Test
    void itemsAckedOutOfOrderWithinOneBatchStayGoneAndAFullyGoneBatchLeavesNoRows() throws Exception {
        ItemQueue q = durable(start(), "jobs", 100);
        put(q, texts(1, 5).toArray(String[]::new)); // one batch: one stored segment
        ItemQueueTest.Recorder r = new ItemQueueTest.Recorder();
        QueueConsumer c = q.consume(Optional.empty(), r);
        c.grant(5);
        c.ack(List.of(r.got.get(1).tag(), r.got.get(3).tag()), 0, false); // item-2 and item-4
        stopServer();

        QueueRegistry again = start();
        ItemQueue back = again.get("jobs");
        assertEquals(List.of("item-1", "item-3", "item-5"), drain(back));
        put(back, "item-6");
        stopServer();

        assertEquals(List.of("item-6"), drain(start().get("jobs")));
        stopServer();
        start();
        assertEquals(List.of(), store.kinds(QueueJournal.ITEM_KIND_PREFIX), "every item left: no segment row");
        assertEquals(List.of(), store.kinds(QueueJournal.GONE_KIND_PREFIX));
    }

    @Test
    void aPutIsAnsweredOnlyOnceItsItemsAreCommitted() throws Exception {
        start(); // opens the real store under the held one
        // A store whose commits the test releases: the answer must wait for them.
        CompletableFuture<Void> commit = new CompletableFuture<>();
        StateStore held = new dev.forkd.server.store.GatedStore(store, commit);
        QueueRegistry queues = new QueueRegistry(limits, timers, MemoryBudget.unlimited(), ServerEvents.NONE, held);
        var created = queues.create(Optional.of("held"), 10, false, true);
        ItemQueue q = created.queue();
        CompletableFuture<Outcomes.Put> done = new CompletableFuture<>();
        q.put(List.of(item("a")), FOREVER, done::complete);
        CompletableFuture<Outcomes.Put> produced = new CompletableFuture<>();
        CompletableFuture<Void> admitted = new CompletableFuture<>();
        q.produce(List.of(item("b"), item("c")), () -> admitted.complete(null), produced::complete);
        // In the queue at once, so a producer may send its next batch while this one is committed...
        assertTrue(admitted.isDone());
        assertEquals(3, q.snapshot().size());
        // ...but nobody is told it is kept before it is.
        assertFalse(created.stored().isDone(), "the creation is answered before the store has it");
        assertFalse(done.isDone(), "the put is answered before the store has its item");
        assertFalse(produced.isDone(), "the produced batch is acked before the store has it");
        commit.complete(null);
        assertInstanceOf(Outcomes.Put.Done.class, done.get(30, TimeUnit.SECONDS));
        assertInstanceOf(Outcomes.Put.Done.class, produced.get(30, TimeUnit.SECONDS));
        created.stored().get(30, TimeUnit.SECONDS);
    }

    @Test
    void aPutTheStoreCannotKeepFailsWithTheStoresReason() throws Exception {
        QueueRegistry queues = start();
        ItemQueue q = durable(queues, "jobs", 10);
        store.close(); // later writes fail
        Outcomes.Put.Failed f = assertInstanceOf(Outcomes.Put.Failed.class, put(q, "a"));
        assertEquals("STATE_STORE_UNAVAILABLE", f.error().reason());
    }

    @Test
    void takenItemsNeverComeBackAndUnfinishedTasksSurvive() throws Exception {
        QueueRegistry queues = start();
        ItemQueue q = durable(queues, "tasks", 10);
        put(q, "a", "b", "c");
        CompletableFuture<Outcomes.Take> got = new CompletableFuture<>();
        q.take(2, NOW, got::complete);
        assertEquals(2, assertInstanceOf(Outcomes.Take.Items.class, got.get(30, TimeUnit.SECONDS)).items().size());
        q.taskDone(1); // a done, b taken but not done, c waiting
        q.close();
        stopServer();

        ItemQueue back = start().get("tasks");
        assertEquals(2, back.snapshot().unfinished(), "b (taken, not done) and c (waiting)");
        assertTrue(back.snapshot().closed());
        assertEquals(List.of("c"), drain(back));
        assertEquals(1, back.taskDone(1));
    }

    @Test
    void itemsPutAfterARestartComeAfterTheOldOnesAcrossTheNextRestart() throws Exception {
        put(durable(start(), "jobs", 10), "a", "b");
        stopServer();
        put(start().get("jobs"), "c");
        stopServer();
        assertEquals(List.of("a", "b", "c"), drain(start().get("jobs")));
    }

    @Test
    void aDeletedQueueLeavesNothingInTheStore() throws Exception {
        QueueRegistry queues = start();
        put(durable(queues, "jobs", 10), "a", "b");
        queues.delete("jobs");
        stopServer();
        QueueRegistry again = start();
        assertEquals(0, again.count());
        assertEquals(List.of(), store.load(QueueJournal.KIND));
        assertEquals(List.of(), store.kinds(QueueJournal.ITEM_KIND_PREFIX));
    }

    @Test
    void anInMemoryQueueWritesNothingButItsIdReservation() throws Exception {
        QueueRegistry queues = start();
        ItemQueue q = queues.create(Optional.of("mem"), 10, false).queue();
        assertFalse(q.durable());
        put(q, "a");
        stopServer();
        QueueRegistry again = start();
        assertEquals(0, again.count());
        assertEquals(List.<StoreRow>of(), store.load(QueueJournal.KIND));
        assertEquals(List.of(IdBlocks.KIND), store.kinds(""));
    }

    @Test
    void storedItemsAreChargedToTheMemoryBudgetAgain() throws Exception {
        put(durable(start(), "jobs", 10), "a", "b");
        stopServer();
        MemoryBudget memory = new MemoryBudget(1 << 20);
        ItemQueue q = start(memory).get("jobs");
        assertEquals(q.snapshot().bytes(), memory.used());
        drain(q);
        assertEquals(0, memory.used());
    }

    @Test
    void durableIsRefusedWhereNoStateIsKept() {
        QueueRegistry queues = new QueueRegistry(limits, timers, MemoryBudget.unlimited(), ServerEvents.NONE,
                StateStore.none());
        var e = assertThrows(ForkdException.InvalidArgument.class,
                () -> queues.create(Optional.of("q"), 0, false, true));
        assertTrue(e.getMessage().contains("--state-dir none"), e.getMessage());
        assertEquals(0, queues.count());
    }

    @Test
    void ifNotExistsRefusesAQueueOfOtherDurability() throws Exception {
        QueueRegistry queues = start();
        queues.create(Optional.of("mem"), 10, false);
        assertThrows(ForkdException.InvalidArgument.class, () -> queues.create(Optional.of("mem"), 10, true, true));
        durable(queues, "disk", 10);
        assertThrows(ForkdException.InvalidArgument.class, () -> queues.create(Optional.of("disk"), 10, true, false));
        assertTrue(queues.create(Optional.of("disk"), 10, true, true).queue().durable());
    }
}
