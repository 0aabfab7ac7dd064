package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.process.RestartSpec;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncTable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A caller's callback that throws (its call is gone: the ghost joiner of issue 10 did this when
 * its process ended) must not keep the other callers from being answered, nor reach the thread
 * that reported the event (for processes, the agent's stream).
 */
@Timeout(30)
class FailingCallbackTest {

    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    @Test
    void aJoinerThatThrowsDoesNotKeepTheNextJoinerWaiting() throws Exception {
        ProcessTable table = InstantAgent.table(timers);
        CompletableFuture<String> started = new CompletableFuture<>();
        table.spawn(new ProcessSpec(List.of("sleep"), Map.of(), Optional.empty(), Optional.empty(), Map.of(), false,
                false, Optional.empty(), RestartSpec.NEVER, 1024, Duration.ofSeconds(1), Optional.empty(), false),
                p -> started.complete(p.id()), started::completeExceptionally);
        String id = started.get(10, TimeUnit.SECONDS);
        table.join(id, Optional.empty(), (p, timedOut) -> {
            throw new IllegalStateException("call already closed");
        });
        CompletableFuture<Integer> second = new CompletableFuture<>();
        table.join(id, Optional.empty(), (p, timedOut) -> second.complete(p.exitCode()));
        table.signal(id, new ProcessTable.SignalAction.Kill());
        assertEquals(-9, second.get(10, TimeUnit.SECONDS));
    }

    @Test
    void anEventWaiterThatThrowsDoesNotKeepTheNextWaiterWaiting() throws Exception {
        SyncTable sync = new SyncTable(timers, s -> true, SyncTable.Limits.DEFAULT);
        sync.waitEvent("e", Optional.empty(), new Callback<>() {
            @Override
            public void done(Boolean set) {
                throw new IllegalStateException("call already closed");
            }

            @Override
            public void failed(ForkdException e) {}
        });
        CompletableFuture<Boolean> second = new CompletableFuture<>();
        sync.waitEvent("e", Optional.empty(), new Callback<>() {
            @Override
            public void done(Boolean set) {
                second.complete(set);
            }

            @Override
            public void failed(ForkdException e) {
                second.completeExceptionally(e);
            }
        });
        assertEquals(2, sync.setEvent("e"), "setEvent answers how many it woke, whatever they do");
        assertTrue(second.get(10, TimeUnit.SECONDS));
    }
}
