package dev.forkd.server.grpc;

import static dev.forkd.server.testing.ErrorDetails.field;
import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.ApplyAsyncRequest;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.GetQueueRequest;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.PutResponse;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 10, items 5 and 9 over in-process gRPC: a refused call leaves no record, counts add up,
 * and the answers are the ones the protos promise.
 */
@Timeout(30)
class RecordsAndContractsTest {

    /** Child sessions count against this limit, as in the real server. */
    private static final int MAX_SESSIONS = 3;

    private SessionRegistry sessions;
    private InProcessServer server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        server = InProcessServer.start(MAX_SESSIONS);
        channel = server.channel();
        sessions = server.sessions();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private ProcessServiceGrpc.ProcessServiceBlockingStub processes() {
        return ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private QueueServiceGrpc.QueueServiceBlockingStub queues() {
        return QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private SyncServiceGrpc.SyncServiceBlockingStub sync(String session) {
        Metadata h = new Metadata();
        h.put(Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER), session);
        return SyncServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static StatusRuntimeException fails(Status.Code code, Runnable call) {
        var e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        return e;
    }

    private int processCount() {
        return processes().list(ListProcessesRequest.getDefaultInstance()).getProcessesCount();
    }

    // ---- item 5 ------------------------------------------------------------------------------

    @Test
    void spawnRefusedAtTheSessionLimitLeavesNoRecordAndFreesItsName() {
        for (int i = 0; i < MAX_SESSIONS; i++) {
            processes().spawn(SpawnRequest.newBuilder().addArgv("sleep").setName("p" + i).build());
        }
        var e = fails(Status.Code.RESOURCE_EXHAUSTED, () -> processes().spawn(SpawnRequest.newBuilder()
                .addArgv("sleep").setName("late").build()));
        assertEquals("TOO_MANY_SESSIONS", reason(e));
        assertEquals(MAX_SESSIONS, processCount(), "the refused spawn left a record");
        fails(Status.Code.NOT_FOUND, () -> processes().join(JoinProcessRequest.newBuilder().setName("late").build()));

        // Once a child ends (and its session with it), the name is free and the spawn succeeds.
        processes().signal(SignalRequest.newBuilder().setName("p0").setKind(SignalKind.SIGNAL_KIND_KILL).build());
        processes().join(JoinProcessRequest.newBuilder().setName("p0").build());
        processes().delete(DeleteProcessRequest.newBuilder().setName("p0").build());
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (sessions.count() >= MAX_SESSIONS && System.nanoTime() < end) {
            Thread.onSpinWait(); // the ended child's session closes on the timer thread
        }
        assertEquals("late", processes().spawn(SpawnRequest.newBuilder().addArgv("sleep").setName("late").build())
                .getProcess().getName());
    }

    @Test
    void aTagRepeatedInOneAckIsAckedOnceAndTheStreamGoesOn() throws Exception {
        queues().create(CreateQueueRequest.newBuilder().setName("q").build());
        queues().put(PutRequest.newBuilder().setName("q").addItems(item("a")).addItems(item("b")).build());
        List<ConsumeResponse> got = new CopyOnWriteArrayList<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        CompletableFuture<Void> first = new CompletableFuture<>();
        CompletableFuture<Void> second = new CompletableFuture<>();
        StreamObserver<ConsumeRequest> c = QueueServiceGrpc.newStub(channel).consume(new StreamObserver<>() {
            @Override
            public void onNext(ConsumeResponse r) {
                got.add(r);
                (got.size() == 1 ? first : second).complete(null);
            }

            @Override
            public void onError(Throwable t) {
                ended.complete(t);
            }

            @Override
            public void onCompleted() {
                ended.complete(null);
            }
        });
        c.onNext(ConsumeRequest.newBuilder().setName("q").setCredit(1).build());
        first.get(10, TimeUnit.SECONDS);
        long tag = got.getFirst().getDeliveries(0).getTag();
        c.onNext(ConsumeRequest.newBuilder().addAckTags(tag).addAckTags(tag).setCredit(1).build());
        second.get(10, TimeUnit.SECONDS);
        assertTrue(!ended.isDone(), "the stream ended: " + ended);
        assertEquals("b", got.get(1).getDeliveries(0).getItem().getData().toStringUtf8());
        var info = queues().get(GetQueueRequest.newBuilder().setName("q").build()).getQueue();
        assertEquals(1, info.getInFlight(), "only the one delivery not acked is in flight: " + info);
        c.onCompleted();
    }

    @Test
    void aReleaseByANonHolderIsNotReturnedAgainWhenTheHolderEnds() {
        var holderSession = sessions.open("holder", SessionRegistry.DEFAULT_TTL);
        String holder = holderSession.credential();
        String other = sessions.open("other", SessionRegistry.DEFAULT_TTL).credential();
        sync(holder).acquire(AcquireRequest.newBuilder().setName("s").setKind(SyncKind.SYNC_KIND_SEMAPHORE).setValue(1).build());
        assertEquals(1, sync(other).release(ReleaseRequest.newBuilder().setName("s").build()).getValue());
        sessions.end(holderSession.id());
        assertEquals(1, sync(other).get(GetSyncRequest.newBuilder().setName("s").build()).getInfo().getValue(),
                "the holder's end returned the permit the other session had already released");
        // With no holder left, a release raises a plain semaphore above its initial value, as in Python.
        assertEquals(2, sync(other).release(ReleaseRequest.newBuilder().setName("s").build()).getValue());
    }

    @Test
    void aTimedOutPutReportsTheQueuesRealSize() {
        queues().create(CreateQueueRequest.newBuilder().setName("q").setMaxsize(1).build());
        queues().put(PutRequest.newBuilder().setName("q").addItems(item("a")).build());
        for (Duration t : List.of(Duration.getDefaultInstance(), Duration.newBuilder().setNanos(20_000_000).build())) {
            PutResponse r = queues().put(PutRequest.newBuilder().setName("q").addItems(item("b")).setTimeout(t).build());
            assertTrue(r.getTimedOut());
            assertEquals(1, r.getSize(), "timeout " + t + ": " + r);
        }
    }

    @Test
    void argvAndEnvAreLimitedInBytesNotCharacters() {
        String twoByteChars = "\u00e9".repeat(70_000); // 140,000 bytes: over 128 KiB in 70,000 characters
        var arg = fails(Status.Code.INVALID_ARGUMENT, () -> processes().spawn(SpawnRequest.newBuilder()
                .addArgv("echo").addArgv(twoByteChars).build()));
        assertEquals("argv[1]", field(arg));
        assertTrue(arg.getStatus().getDescription().contains("131071"), arg.getStatus().getDescription());
        // Nine variables of 120,000 bytes each (60,000 characters): 1.08 MB, but only 540,000 characters.
        var big = SpawnRequest.newBuilder().addArgv("echo");
        for (int i = 0; i < 9; i++) {
            big.putEnv("V" + i, "\u00e9".repeat(60_000));
        }
        var env = fails(Status.Code.INVALID_ARGUMENT, () -> processes().spawn(big.build()));
        assertEquals("env", field(env));
        assertEquals(0, processCount());
        // Just under the limit is fine.
        processes().spawn(SpawnRequest.newBuilder().addArgv("echo").addArgv("a".repeat(131_071)).build());
    }

    @Test
    void aPoolItemTooLongForItsCommandIsInvalidArgument() {
        var pools = PoolServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        String pool = pools.create(CreatePoolRequest.newBuilder().setProcesses(1).setWorker(WorkerSpec.newBuilder()
                .setKind(WorkerKind.WORKER_KIND_PER_TASK).addArgv("echo").addArgv("{}")).build()).getPool().getId();
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> pools.applyAsync(ApplyAsyncRequest.newBuilder().setName(pool)
                .setInput(TaskInput.newBuilder().setItem(ByteString.copyFromUtf8("\u00e9".repeat(70_000)))).build()));
        assertEquals("input", field(e));
        assertTrue(e.getStatus().getDescription().contains("argv[1]"), e.getStatus().getDescription());
        var template = fails(Status.Code.INVALID_ARGUMENT, () -> pools.create(CreatePoolRequest.newBuilder()
                .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK).addArgv("echo")
                        .addArgv("{}" + "\u00e9".repeat(70_000))).build()));
        assertEquals("worker.argv[1]", field(template));
    }

    // ---- item 9 ------------------------------------------------------------------------------

    @Test
    void aScalarOverItsLimitIsInvalidArgumentNamingTheFieldAndCreatesNothing() {
        var shared = SharedServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> shared.setValue(SetValueRequest.newBuilder().setName("big")
                .setValue(Scalar.newBuilder().setBytesValue(ByteString.copyFrom(new byte[1024 * 1024 + 1]))).build()));
        assertEquals("value", field(e));
        fails(Status.Code.NOT_FOUND, () -> shared.getValue(GetValueRequest.newBuilder().setName("big").build()));
    }

    private static QueueItem item(String s) {
        return QueueItem.newBuilder().setData(ByteString.copyFromUtf8(s)).build();
    }
}
