package dev.forkd.server.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Queue bytes are charged to the server's budget while held, and every way out gives them back. */
@Timeout(10)
class ItemQueueBudgetTest {

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final MemoryBudget budget = new MemoryBudget(1000);
    private final QueueRegistry registry = new QueueRegistry(
            new QueueLimits(10, 100, 1000, 400, 4096, 50, 20, 10), timers, budget);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    /** An item of {@code n} bytes costing n + 16. */
    private static Item item(int n) {
        return Item.of(new byte[n]);
    }

    private ItemQueue queue(long maxsize) {
        return registry.create(Optional.empty(), maxsize, false).queue();
    }

    @Test
    void aPutTheBudgetCannotHoldIsRefusedAndChangesNothing() {
        ItemQueue q = queue(100);
        q.put(List.of(item(284), item(284)), Optional.empty(), r -> {});
        assertEquals(600, budget.used());
        var e = assertThrows(ForkdException.ResourceExhausted.class,
                () -> q.put(List.of(item(384), item(84)), Optional.empty(), r -> {}));
        assertEquals(MemoryBudget.REASON, e.reason());
        assertEquals(600, budget.used());
        assertEquals(2, q.snapshot().size());
    }

    @Test
    void takingGivesTheBytesBack() throws Exception {
        ItemQueue q = queue(100);
        q.put(List.of(item(84), item(84), item(84)), Optional.empty(), r -> {});
        assertEquals(300, budget.used());
        CompletableFuture<Outcomes.Take> took = new CompletableFuture<>();
        q.take(2, Optional.empty(), took::complete);
        assertEquals(2, assertInstanceOf(Outcomes.Take.Items.class, took.get(5, TimeUnit.SECONDS)).items().size());
        assertEquals(100, budget.used());
    }

    @Test
    void aBlockedPutterIsChargedUntilItTimesOutOrIsCancelled() throws Exception {
        ItemQueue q = queue(1);
        q.put(List.of(item(84)), Optional.empty(), r -> {});
        CompletableFuture<Outcomes.Put> timedOut = new CompletableFuture<>();
        q.put(List.of(item(184)), Optional.of(Duration.ofMillis(50)), timedOut::complete);
        assertInstanceOf(Outcomes.Put.TimedOut.class, timedOut.get(5, TimeUnit.SECONDS));
        assertEquals(100, budget.used());
        var zero = new CompletableFuture<Outcomes.Put>();
        q.put(List.of(item(184)), Optional.of(Duration.ZERO), zero::complete);
        assertInstanceOf(Outcomes.Put.TimedOut.class, zero.get(5, TimeUnit.SECONDS));
        assertEquals(100, budget.used());
        var pending = q.put(List.of(item(184)), Optional.empty(), r -> {});
        assertEquals(300, budget.used(), "a waiting batch is held, so charged");
        pending.cancel();
        assertEquals(100, budget.used());
        q.put(List.of(item(184)), Optional.empty(), r -> {});
        q.close(); // fails the blocked putter
        assertEquals(100, budget.used());
    }

    @Test
    void consumedItemsStayChargedUntilAckedAndGoBackCharged() {
        ItemQueue q = queue(100);
        q.put(List.of(item(84), item(84)), Optional.empty(), r -> {});
        var delivered = new java.util.ArrayList<Outcomes.Delivery>();
        QueueConsumer c = q.consume(Optional.empty(), new QueueConsumer.Sink() {
            @Override
            public void deliver(List<Outcomes.Delivery> batch) {
                delivered.addAll(batch);
            }

            @Override
            public void end(Outcomes.ConsumerEnd why) {}
        });
        c.grant(2);
        assertEquals(2, delivered.size());
        assertEquals(200, budget.used(), "in flight is still held");
        c.ack(List.of(delivered.get(0).tag()), 0, false);
        assertEquals(100, budget.used());
        c.close(); // the unacked one goes back to the queue, still held
        assertEquals(100, budget.used());
        assertEquals(1, q.snapshot().size());
    }

    @Test
    void deletingGivesEverythingBack() {
        ItemQueue q = queue(2);
        q.put(List.of(item(84), item(84)), Optional.empty(), r -> {});
        q.put(List.of(item(84)), Optional.empty(), r -> {}); // blocked
        QueueConsumer c = q.consume(Optional.empty(), new QueueConsumer.Sink() {
            @Override
            public void deliver(List<Outcomes.Delivery> batch) {}

            @Override
            public void end(Outcomes.ConsumerEnd why) {}
        });
        c.grant(1); // one in flight, and the blocked one moves in
        assertEquals(300, budget.used());
        registry.delete(q.id());
        assertEquals(0, budget.used());
    }

    @Test
    void aTakeEndsItsBatchBeforeADefaultClientsLimit() throws Exception {
        MemoryBudget big = new MemoryBudget(100L << 20);
        var reg = new QueueRegistry(new QueueLimits(10, 100, 1000, 1 << 20, 64L << 20, 50, 20, 10), timers, big);
        ItemQueue q = reg.create(Optional.empty(), 100, false).queue();
        for (int i = 0; i < 5; i++) {
            q.put(List.of(item(1 << 20)), Optional.empty(), r -> {});
        }
        CompletableFuture<Outcomes.Take> took = new CompletableFuture<>();
        q.take(5, Optional.empty(), took::complete);
        assertEquals(2, assertInstanceOf(Outcomes.Take.Items.class, took.get(5, TimeUnit.SECONDS)).items().size(),
                "a third 1 MiB item would pass 3 MiB");
        assertEquals(3, q.snapshot().size());
    }
}
