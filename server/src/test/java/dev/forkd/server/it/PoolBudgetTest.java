package dev.forkd.server.it;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.v1.ApplyAsyncRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.DeletePoolRequest;
import dev.forkd.v1.JoinPoolRequest;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.PoolInfo;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.TerminatePoolRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 10: what pools hold for their clients is held from the server's memory budget. Items a pool
 * has taken but not run (ApplyAsync, a Map stream's window) and results nobody collected used to
 * grow without bound past it; now the call that would pass the budget is refused with
 * RESOURCE_EXHAUSTED (MEMORY_BUDGET_EXHAUSTED), and what a pool held is given back when it goes.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PoolBudgetTest {

    private static final long BUDGET = 8 * ServerConfig.MIB;
    private static final int ITEM = 512 * 1024;

    private RealServer forkd;

    @BeforeEach
    void start() throws Exception {
        forkd = new RealServer(1, c -> c.withMemoryBudget(BUDGET));
    }

    @AfterEach
    void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    private PoolServiceGrpc.PoolServiceBlockingStub pools() {
        return PoolServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    private static TaskInput bigItem() {
        return TaskInput.newBuilder().setItem(ByteString.copyFrom(new byte[ITEM])).build();
    }

    /** One worker that takes its item on stdin and then never ends: every later task waits with its item. */
    private PoolInfo stuckPool() {
        var create = PoolTest.perTask(1, "sh", "-c", "cat > /dev/null; exec sleep 1000");
        create.getWorkerBuilder().setStdinItem(true);
        return pools().create(create.build()).getPool();
    }

    private static void assertBudgetRefusal(StatusRuntimeException e) {
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals(MemoryBudget.REASON, reason(e), e.getStatus().toString());
    }

    /** The budget is whole again: 6 MiB of queue items fit in the 8 MiB. */
    private void assertBudgetGivenBack() {
        var queues = QueueServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        queues.create(CreateQueueRequest.newBuilder().setName("after").setMaxsize(100).build());
        for (int i = 0; i < 6; i++) {
            queues.put(PutRequest.newBuilder().setName("after")
                    .addItems(QueueItem.newBuilder().setData(ByteString.copyFrom(new byte[1 << 20]))).build());
        }
    }

    private void endPool(PoolInfo pool) {
        pools().terminate(TerminatePoolRequest.newBuilder().setName(pool.getId()).build());
        pools().join(JoinPoolRequest.newBuilder().setName(pool.getId()).build());
        pools().delete(DeletePoolRequest.newBuilder().setName(pool.getId()).build());
    }

    @Test
    void applyAsyncItemsPastTheBudgetAreRefusedAndGivenBackWhenThePoolGoes() {
        PoolInfo pool = stuckPool();
        StatusRuntimeException refused = null;
        int accepted = 0;
        for (int i = 0; i < 40 && refused == null; i++) {
            try {
                pools().applyAsync(ApplyAsyncRequest.newBuilder().setName(pool.getId()).setInput(bigItem()).build());
                accepted++;
            } catch (StatusRuntimeException e) {
                refused = e;
            }
        }
        assertNotNull(refused, "40 items of 512 KiB (20 MiB) all held within an 8 MiB budget");
        assertBudgetRefusal(refused);
        assertTrue(accepted >= 8 && accepted <= 16, accepted + " items of 512 KiB accepted in 8 MiB");
        endPool(pool);
        assertBudgetGivenBack();
    }

    @Test
    void uncollectedResultsPastTheBudgetAreRefusedToTheirReaderAndGivenBackWhenTaken() {
        // Each task's result is 1 MiB of stdout; nobody collects them until all have ended.
        var create = PoolTest.perTask(1, "sh", "-c", "head -c 1048576 /dev/zero", "{}");
        PoolInfo pool = pools().create(create.build()).getPool();
        List<String> tasks = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            tasks.add(pools().applyAsync(ApplyAsyncRequest.newBuilder().setName(pool.getId())
                    .setInput(TaskInput.newBuilder().setItem(ByteString.copyFromUtf8("x"))).build()).getName());
        }
        int full = 0;
        int refusedByBudget = 0;
        // Last first: one worker runs them in order, so when the last has ended they all have, and
        // every result not refused is held at once.
        for (String task : tasks.reversed()) {
            try {
                var got = pools().getResult(dev.forkd.v1.GetResultRequest.newBuilder()
                        .setName(task).setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(50)).build());
                assertTrue(got.getReady(), task + " never ended");
                if (got.getResult().getOutput().size() == 1 << 20) {
                    full++;
                } else {
                    // Its process could not start, or its output log was trimmed: the budget was full.
                    assertTrue(got.getResult().hasFailure(), got.toString());
                    // 1 MiB is far under the 16 MiB cap: a trimmed log must blame the budget, not the cap.
                    assertTrue(!got.getResult().getFailure().getMessage().contains("larger than"), got.toString());
                    refusedByBudget++;
                }
            } catch (StatusRuntimeException e) {
                assertBudgetRefusal(e);
                refusedByBudget++;
            }
        }
        assertTrue(full <= 8, full + " results of 1 MiB held at once within an 8 MiB budget");
        assertTrue(full >= 1, "not even one result of 1 MiB fit in 8 MiB");
        assertEquals(12, full + refusedByBudget);
        // Taking them gave their bytes back.
        endPool(pool);
        assertBudgetGivenBack();
    }

    @Test
    void aMapStreamWhoseItemsPassTheBudgetFailsWithTheBudgetAndGivesItBack() throws Exception {
        PoolInfo pool = stuckPool();
        List<TaskInput> items = new ArrayList<>();
        IntStream.range(0, 40).forEach(i -> items.add(bigItem()));
        MapCall call = MapCall.start(PoolServiceGrpc.newStub(forkd.channel),
                MapStart.newBuilder().setName(pool.getId()).build(), items.iterator(), 1, r -> {});
        try {
            call.done.get(60, TimeUnit.SECONDS);
            fail("a Map of 40 items of 512 KiB into a stuck pool ended without a refusal");
        } catch (ExecutionException e) {
            assertTrue(e.getCause() instanceof StatusRuntimeException, e.toString());
            assertBudgetRefusal((StatusRuntimeException) e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            fail("a Map of 40 items of 512 KiB into a stuck pool was never refused: the items were all held");
        }
        endPool(pool);
        assertBudgetGivenBack();
    }
}
