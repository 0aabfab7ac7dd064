package dev.forkd.server.it;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.DeleteQueueRequest;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.GetQueueRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.StdinMode;
import dev.forkd.v1.WriteStdinRequest;
import dev.forkd.v1.WriteStdinResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real server with an 8 MiB memory budget, filled by one client's queues and output until the
 * budget refuses: the refusals are RESOURCE_EXHAUSTED with MEMORY_BUDGET_EXHAUSTED and change
 * nothing, output logs shrink instead of failing, another client's process and queue go on, and
 * what is taken or deleted gives the budget back.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GlobalBudgetTest {

    private static final long BUDGET = 8 * ServerConfig.MIB;
    private static final int BIG = 1 << 20;

    private static QueueItem item(int size) {
        return QueueItem.newBuilder().setData(ByteString.copyFrom(new byte[size])).build();
    }

    private static void assertBudgetRefusal(StatusRuntimeException e) {
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals(MemoryBudget.REASON, reason(e));
        assertTrue(e.getStatus().getDescription().contains("--memory-budget"), e.getStatus().getDescription());
    }

    /** Writes {@code data} to a process's stdin in one WriteStdin call: its error, or null if it went. */
    private static StatusRuntimeException writeStdin(RealServer forkd, String id, byte[] data) throws Exception {
        CompletableFuture<StatusRuntimeException> result = new CompletableFuture<>();
        StreamObserver<WriteStdinRequest> in = forkd.processesAsync().writeStdin(new StreamObserver<>() {
            @Override
            public void onNext(WriteStdinResponse r) {}

            @Override
            public void onError(Throwable t) {
                result.complete(t instanceof StatusRuntimeException s ? s : new StatusRuntimeException(Status.fromThrowable(t)));
            }

            @Override
            public void onCompleted() {
                result.complete(null);
            }
        });
        in.onNext(WriteStdinRequest.newBuilder().setName(id).setData(ByteString.copyFrom(data)).build());
        in.onCompleted();
        return result.get(30, TimeUnit.SECONDS);
    }

    @Test
    void aFullBudgetRefusesNewWorkShrinksOutputAndLeavesOtherClientsServed() throws Exception {
        RealServer forkd = new RealServer(1, c -> c.withMemoryBudget(BUDGET));
        try {
            var processes = forkd.processes();
            var queues = QueueServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(60, TimeUnit.SECONDS);

            // Another client's work, started before the budget fills.
            ProcessInfo sentinel = processes.spawn(SpawnRequest.newBuilder().addAllArgv(List.of("sleep", "1000"))
                    .build()).getProcess();
            ProcessInfo reader = processes.spawn(SpawnRequest.newBuilder()
                    .addAllArgv(List.of("sh", "-c", "cat > /dev/null")).setStdinMode(StdinMode.STDIN_MODE_PIPE)
                    .build()).getProcess();
            queues.create(CreateQueueRequest.newBuilder().setName("other").build());
            queues.put(PutRequest.newBuilder().setName("other")
                    .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("hello"))).build());

            // Fill with 1 MiB items over many queues until the budget refuses.
            StatusRuntimeException refused = null;
            int bigPut = 0;
            String refusedQueue = null;
            for (int q = 0; refused == null && q < 20; q++) {
                String name = "fill-" + q;
                queues.create(CreateQueueRequest.newBuilder().setName(name).build());
                for (int i = 0; i < 2 && refused == null; i++) {
                    try {
                        queues.put(PutRequest.newBuilder().setName(name).addItems(item(BIG)).build());
                        bigPut++;
                    } catch (StatusRuntimeException e) {
                        refused = e;
                        refusedQueue = name;
                    }
                }
            }
            assertNotNull(refused, "8 MiB of budget held 40 MiB of items");
            assertBudgetRefusal(refused);
            assertTrue(bigPut >= 6 && bigPut <= 8, bigPut + " items of 1 MiB fit in 8 MiB");
            long sizeAfterRefusal = queues.get(GetQueueRequest.newBuilder().setName(refusedQueue).build())
                    .getQueue().getSize();
            assertEquals(bigPut % 2 == 1 ? 1 : 0, sizeAfterRefusal % 2 == 1 ? 1 : 0);

            // Then with small items, until even those are refused: now a spawn is refused too.
            StatusRuntimeException smallRefused = null;
            for (int i = 0; i < 200 && smallRefused == null; i++) {
                try {
                    queues.put(PutRequest.newBuilder().setName("fill-0").addItems(item(32 * 1024)).build());
                } catch (StatusRuntimeException e) {
                    smallRefused = e;
                }
            }
            assertNotNull(smallRefused);
            assertBudgetRefusal(smallRefused);
            var spawnRefused = assertThrows(StatusRuntimeException.class, () -> processes.spawn(
                    SpawnRequest.newBuilder().addAllArgv(List.of("true")).build()));
            assertBudgetRefusal(spawnRefused);
            assertBudgetRefusal(writeStdin(forkd, reader.getId(), new byte[64 * 1024]));

            // The other client's process and queue are untouched and still served.
            ProcessInfo s = processes.get(GetProcessRequest.newBuilder().setName(sentinel.getId()).build()).getProcess();
            assertEquals(ProcessState.PROCESS_STATE_RUNNING, s.getState());
            var hello = queues.take(TakeRequest.newBuilder().setName("other").build());
            assertEquals("hello", hello.getItems(0).getData().toStringUtf8());

            // Taking gives bytes back: 2 MiB free. A process writing 6 MB then keeps what fits and
            // drops its oldest output, as past its own cap, and ends normally.
            queues.take(TakeRequest.newBuilder().setName("fill-1").setMaxItems(2).build());
            ProcessInfo writer = processes.spawn(SpawnRequest.newBuilder()
                    .addAllArgv(List.of("head", "-c", "6000000", "/dev/zero")).build()).getProcess();
            ProcessInfo ended = processes.join(JoinProcessRequest.newBuilder().setName(writer.getId()).build()).getProcess();
            assertEquals(ProcessState.PROCESS_STATE_EXITED, ended.getState());
            assertEquals(0, ended.getExitCode());
            assertEquals(6_000_000, ended.getOutputEndOffset());
            assertTrue(ended.getOutputStartOffset() >= 6_000_000 - 3L * BIG,
                    "the log kept more than the budget had free: from " + ended.getOutputStartOffset());

            // Deleting gives the rest back: big puts and spawns work again.
            processes.delete(DeleteProcessRequest.newBuilder().setName(writer.getId()).build());
            for (int q = 0; q < 20; q++) {
                try {
                    queues.delete(DeleteQueueRequest.newBuilder().setName("fill-" + q).build());
                } catch (StatusRuntimeException e) {
                    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
                }
            }
            queues.create(CreateQueueRequest.newBuilder().setName("after").build());
            for (int i = 0; i < 6; i++) {
                queues.put(PutRequest.newBuilder().setName("after").addItems(item(BIG)).build());
            }
            ProcessInfo again = processes.spawn(SpawnRequest.newBuilder().addAllArgv(List.of("true")).build())
                    .getProcess();
            assertEquals(0, processes.join(JoinProcessRequest.newBuilder().setName(again.getId()).build()).getProcess()
                    .getExitCode());

            // Stdin flows again, and every byte the budget held for it came back.
            assertEquals(null, writeStdin(forkd, reader.getId(), new byte[64 * 1024]));
            for (ProcessInfo p : List.of(sentinel, reader)) {
                processes.signal(SignalRequest.newBuilder().setName(p.getId()).setKind(SignalKind.SIGNAL_KIND_KILL)
                        .build());
                processes.join(JoinProcessRequest.newBuilder().setName(p.getId()).build());
            }
        } finally {
            forkd.closeLeavingNothing();
        }
    }
}
