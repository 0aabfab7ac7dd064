package dev.forkd.server.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The queue core on its own: order, blocking, fairness, join, close, redelivery, bounds. */
@Timeout(10)
class ItemQueueTest {

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final QueueRegistry registry = new QueueRegistry(
            new QueueLimits(3, 100, 1000, 64, 4096, 50, 20, 10), timers);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    static Item item(String s) {
        return Item.of(s.getBytes(StandardCharsets.UTF_8));
    }

    static String text(Item i) {
        return new String(i.data(), StandardCharsets.UTF_8);
    }

    private ItemQueue queue(long maxsize) {
        return registry.create(Optional.empty(), maxsize, false).queue();
    }

    private static <T> CompletableFuture<T> future(java.util.function.Function<java.util.function.Consumer<T>, ?> call) {
        CompletableFuture<T> f = new CompletableFuture<>();
        call.apply(f::complete);
        return f;
    }

    private static final Optional<Duration> FOREVER = Optional.empty();
    private static final Optional<Duration> NOW = Optional.of(Duration.ZERO);

    private static List<String> taken(Outcomes.Take t) {
        return assertInstanceOf(Outcomes.Take.Items.class, t).items().stream().map(ItemQueueTest::text).toList();
    }

    @Test
    void itemsComeOutInTheOrderTheyWentIn() throws Exception {
        ItemQueue q = queue(10);
        q.put(List.of(item("a"), item("b")), FOREVER, r -> {});
        q.put(List.of(item("c")), FOREVER, r -> {});
        var got = future((java.util.function.Consumer<Outcomes.Take> cb) -> q.take(10, NOW, cb));
        assertEquals(List.of("a", "b", "c"), taken(got.get(1, TimeUnit.SECONDS)));
    }

    /**
     * A Take whose caller went away (its gRPC call cancelled) before the queue heard of it is handed
     * nothing: the item goes to the next taker instead of leaving with a call nobody reads.
     */
    @Test
    void aTakeWhoseCallerIsGoneTakesNothingAndTheNextOneGetsTheItem() throws Exception {
        ItemQueue q = queue(10);
        java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<Outcomes.Take> abandoned = new CompletableFuture<>();
        q.take(1, FOREVER, abandoned::complete, gone::get);
        var next = future((java.util.function.Consumer<Outcomes.Take> cb) -> q.take(1, FOREVER, cb));
        gone.set(true); // cancelled; the queue has not been told (pending.cancel() not called)
        q.put(List.of(item("kept")), FOREVER, r -> {});
        assertEquals(List.of("kept"), taken(next.get(1, TimeUnit.SECONDS)));
        assertFalse(abandoned.isDone(), "nothing is sent to a caller that is gone");
        q.put(List.of(item("later")), FOREVER, r -> {});
        assertEquals(1, q.snapshot().size(), "the gone caller left the line: the next item waits for a taker");
    }

    @Test
    void takeOnEmptyTimesOutAsAResult() throws Exception {
        ItemQueue q = queue(10);
        var got = future((java.util.function.Consumer<Outcomes.Take> cb) -> q.take(1, Optional.of(Duration.ofMillis(50)), cb));
        assertInstanceOf(Outcomes.Take.TimedOut.class, got.get(5, TimeUnit.SECONDS));
        assertEquals(0, q.snapshot().consumers());
    }

    @Test
    void fullQueueBlocksThePutterUntilATakeMakesRoom() throws Exception {
        ItemQueue q = queue(2);
        q.put(List.of(item("a"), item("b")), FOREVER, r -> {});
        var blocked = future((java.util.function.Consumer<Outcomes.Put> cb) -> q.put(List.of(item("c")), FOREVER, cb));
        assertFalse(blocked.isDone());
        assertTrue(q.snapshot().full());
        var nowait = future((java.util.function.Consumer<Outcomes.Put> cb) -> q.put(List.of(item("x")), NOW, cb));
        assertInstanceOf(Outcomes.Put.TimedOut.class, nowait.get(1, TimeUnit.SECONDS));
        var got = future((java.util.function.Consumer<Outcomes.Take> cb) -> q.take(1, NOW, cb));
        assertEquals(List.of("a"), taken(got.get(1, TimeUnit.SECONDS)));
        assertInstanceOf(Outcomes.Put.Done.class, blocked.get(1, TimeUnit.SECONDS));
        assertEquals(2, q.snapshot().size());
    }

    @Test
    void blockedTakersAreServedFirstComeFirstServed() throws Exception {
        ItemQueue q = queue(10);
        List<String> order = new CopyOnWriteArrayList<>();
        for (String who : List.of("first", "second", "third")) {
            q.take(1, FOREVER, t -> order.add(who + ":" + taken(t).getFirst()));
        }
        q.put(List.of(item("1"), item("2"), item("3")), FOREVER, r -> {});
        assertEquals(List.of("first:1", "second:2", "third:3"), order);
    }

    @Test
    void blockedPuttersGoInFirstComeFirstServedAndAWaitingBatchIsNotOvertaken() throws Exception {
        ItemQueue q = queue(3);
        q.put(List.of(item("a"), item("b"), item("c")), FOREVER, r -> {});
        List<String> order = new CopyOnWriteArrayList<>();
        q.put(List.of(item("d"), item("e")), FOREVER, r -> order.add("batch"));
        q.put(List.of(item("f")), FOREVER, r -> order.add("single"));
        q.take(1, NOW, t -> {}); // room for one: the batch of two still waits, and f must not overtake it
        assertEquals(List.of(), order);
        q.take(1, NOW, t -> {});
        assertEquals(List.of("batch"), order);
        q.take(1, NOW, t -> {});
        assertEquals(List.of("batch", "single"), order);
        var rest = future((java.util.function.Consumer<Outcomes.Take> cb) -> q.take(10, NOW, cb));
        assertEquals(List.of("d", "e", "f"), taken(rest.get(1, TimeUnit.SECONDS)));
    }

    @Test
    void joinReturnsExactlyAtTheLastTaskDone() throws Exception {
        ItemQueue q = queue(10);
        q.put(List.of(item("a"), item("b"), item("c")), FOREVER, r -> {});
        var joined = future((java.util.function.Consumer<Outcomes.Join> cb) -> q.join(FOREVER, cb));
        q.taskDone(2);
        assertFalse(joined.isDone());
        q.taskDone(1);
        assertTrue(joined.isDone());
        assertInstanceOf(Outcomes.Join.Done.class, joined.get());
    }

    @Test
    void taskDoneMoreThanPutsFailsAndChangesNothing() {
        ItemQueue q = queue(10);
        q.put(List.of(item("a")), FOREVER, r -> {});
        var e = assertThrows(ForkdException.FailedPrecondition.class, () -> q.taskDone(2));
        assertEquals("TASK_DONE_TOO_MANY", e.reason());
        assertEquals(1, q.snapshot().unfinished());
    }

    @Test
    void closeFailsBlockedPuttersAndTakersDrainThenLearnItIsClosed() throws Exception {
        ItemQueue q = queue(1);
        q.put(List.of(item("a")), FOREVER, r -> {});
        var blocked = future((java.util.function.Consumer<Outcomes.Put> cb) -> q.put(List.of(item("b")), FOREVER, cb));
        q.close();
        assertInstanceOf(Outcomes.Put.Failed.class, blocked.get(1, TimeUnit.SECONDS));
        assertThrows(ForkdException.FailedPrecondition.class, () -> q.put(List.of(item("c")), NOW, r -> {}));
        var first = future((java.util.function.Consumer<Outcomes.Take> cb) -> q.take(1, FOREVER, cb));
        assertEquals(List.of("a"), taken(first.get(1, TimeUnit.SECONDS)));
        var then = future((java.util.function.Consumer<Outcomes.Take> cb) -> q.take(1, FOREVER, cb));
        assertInstanceOf(Outcomes.Take.Drained.class, then.get(1, TimeUnit.SECONDS));
    }

    /** Records what a consumer is given and how it ends. */
    static final class Recorder implements QueueConsumer.Sink {
        final List<Outcomes.Delivery> got = new CopyOnWriteArrayList<>();
        final CompletableFuture<Outcomes.ConsumerEnd> ended = new CompletableFuture<>();

        @Override
        public void deliver(List<Outcomes.Delivery> batch) {
            got.addAll(batch);
        }

        @Override
        public void end(Outcomes.ConsumerEnd why) {
            ended.complete(why);
        }

        List<String> texts() {
            return got.stream().map(d -> text(d.item())).toList();
        }
    }

    @Test
    void consumerGetsNoMoreThanItsCredit() {
        ItemQueue q = queue(10);
        Recorder r = new Recorder();
        QueueConsumer c = q.consume(Optional.empty(), r);
        q.put(List.of(item("a"), item("b"), item("c")), FOREVER, x -> {});
        assertEquals(List.of(), r.texts());
        c.grant(2);
        assertEquals(List.of("a", "b"), r.texts());
        assertEquals(2, q.snapshot().inFlight());
        assertEquals(1, q.snapshot().size());
    }

    @Test
    void unackedItemsGoBackToTheHeadWhenTheConsumerEnds() {
        ItemQueue q = queue(10);
        q.put(List.of(item("a"), item("b"), item("c"), item("d")), FOREVER, x -> {});
        Recorder first = new Recorder();
        QueueConsumer c = q.consume(Optional.empty(), first);
        c.grant(3);
        c.ack(List.of(), first.got.getFirst().tag(), false); // a is acked; b and c are not
        assertEquals(2, c.close());
        Recorder second = new Recorder();
        q.consume(Optional.empty(), second).grant(10);
        assertEquals(List.of("b", "c", "d"), second.texts());
        assertTrue(second.got.get(0).redelivered() && second.got.get(1).redelivered());
        assertFalse(second.got.get(2).redelivered());
    }

    @Test
    void sessionEndGivesBackWhatItsConsumersHeldAndEndsThem() throws Exception {
        ItemQueue q = queue(10);
        q.put(List.of(item("a"), item("b")), FOREVER, x -> {});
        Recorder r = new Recorder();
        q.consume(Optional.of("s-1"), r).grant(5);
        assertEquals(2, q.snapshot().inFlight());
        assertEquals(2, registry.releaseSession("s-1"));
        assertInstanceOf(Outcomes.ConsumerEnd.Failed.class, r.ended.get(1, TimeUnit.SECONDS));
        assertEquals(0, q.snapshot().inFlight());
        assertEquals(2, q.snapshot().size());
    }

    @Test
    void closedQueueEndsConsumersOnlyOnceDrainedAndAcked() throws Exception {
        ItemQueue q = queue(10);
        q.put(List.of(item("a")), FOREVER, x -> {});
        Recorder r = new Recorder();
        QueueConsumer c = q.consume(Optional.empty(), r);
        c.grant(5);
        q.close();
        assertFalse(r.ended.isDone()); // a is in flight: it could still come back
        c.ack(List.of(r.got.getFirst().tag()), 0, true);
        assertInstanceOf(Outcomes.ConsumerEnd.Drained.class, r.ended.get(1, TimeUnit.SECONDS));
        assertEquals(0, q.snapshot().unfinished());
    }

    @Test
    void inFlightItemsCountAgainstTheBound() {
        ItemQueue q = queue(2);
        q.put(List.of(item("a"), item("b")), FOREVER, x -> {});
        q.consume(Optional.empty(), new Recorder()).grant(2);
        assertEquals(0, q.snapshot().size());
        List<Outcomes.Put> r = new ArrayList<>();
        q.put(List.of(item("c")), NOW, r::add);
        assertInstanceOf(Outcomes.Put.TimedOut.class, r.getFirst());
    }

    @Test
    void boundsAreEnforcedWithTheLimitInTheMessage() {
        var neg = assertThrows(ForkdException.InvalidArgument.class, () -> registry.create(Optional.empty(), -1, false));
        assertEquals("maxsize", neg.field());
        var big = assertThrows(ForkdException.InvalidArgument.class, () -> registry.create(Optional.empty(), 1001, false));
        assertTrue(big.getMessage().contains("1000"), big.getMessage());
        assertEquals(100, queue(0).snapshot().maxsize()); // 0 is the default bound, never unbounded
        ItemQueue q = queue(10);
        var huge = assertThrows(ForkdException.InvalidArgument.class,
                () -> q.put(List.of(Item.of(new byte[65])), NOW, r -> {}));
        assertTrue(huge.getMessage().contains("64 bytes"), huge.getMessage());
        queue(1); // the third of three
        var tooMany = assertThrows(ForkdException.ResourceExhausted.class, () -> queue(1));
        assertTrue(tooMany.getMessage().contains("limit is 3"), tooMany.getMessage());
        assertEquals(0, q.snapshot().size());
    }

    @Test
    void waitersAreBounded() {
        ItemQueue q = queue(10);
        for (int i = 0; i < 10; i++) {
            q.take(1, FOREVER, t -> {});
        }
        var e = assertThrows(ForkdException.ResourceExhausted.class, () -> q.take(1, FOREVER, t -> {}));
        assertEquals("TOO_MANY_WAITERS", e.reason());
    }
}
