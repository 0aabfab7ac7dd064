package dev.forkd.server.pipe;

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

/** Pipe messages are charged to the server's budget while held, and every way out gives them back. */
@Timeout(10)
class PipeBudgetTest {

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final MemoryBudget budget = new MemoryBudget(1000);
    private final PipeRegistry pipes = new PipeRegistry(new PipeLimits(10, 400, 2, 800, 10, 10), timers, budget);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    @Test
    void sendIsChargedRefusedWhenFullAndReceivingGivesBack() throws Exception {
        Pipe p = pipes.create(Optional.empty(), false);
        p.send(1, List.of(new byte[350], new byte[350]), false, Optional.empty(), r -> {});
        assertEquals(700, budget.used());
        var e = assertThrows(ForkdException.ResourceExhausted.class,
                () -> p.send(1, List.of(new byte[400]), true, Optional.empty(), r -> {}));
        assertEquals(MemoryBudget.REASON, e.reason());
        assertEquals(700, budget.used());
        assertEquals(2, p.ends().get(0).buffered());
        CompletableFuture<PipeOutcomes.Recv> got = new CompletableFuture<>();
        p.recv(0, 1, Optional.empty(), got::complete);
        assertEquals(1, assertInstanceOf(PipeOutcomes.Recv.Messages.class, got.get(5, TimeUnit.SECONDS)).messages().size());
        assertEquals(350, budget.used());
    }

    @Test
    void aWaitingSenderIsRefundedWhenItTimesOutAndClosingAndDeletingFreeTheBuffer() throws Exception {
        Pipe p = pipes.create(Optional.empty(), false);
        p.send(1, List.of(new byte[100], new byte[100]), false, Optional.empty(), r -> {});
        CompletableFuture<PipeOutcomes.Send> timedOut = new CompletableFuture<>();
        p.send(1, List.of(new byte[100]), false, Optional.of(Duration.ofMillis(50)), timedOut::complete);
        assertInstanceOf(PipeOutcomes.Send.TimedOut.class, timedOut.get(5, TimeUnit.SECONDS));
        assertEquals(200, budget.used());
        p.send(1, List.of(new byte[100]), false, Optional.empty(), r -> {}); // blocked: buffer holds 2
        assertEquals(300, budget.used());
        p.closeEnd(0); // nobody will read: buffer dropped, the blocked sender fails
        assertEquals(0, budget.used());
        Pipe q = pipes.create(Optional.empty(), true);
        q.send(0, List.of(new byte[100]), false, Optional.empty(), r -> {});
        pipes.delete(q.id());
        assertEquals(0, budget.used());
    }
}
