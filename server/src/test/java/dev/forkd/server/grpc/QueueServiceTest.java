package dev.forkd.server.grpc;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static dev.forkd.server.testing.ErrorDetails.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.forkd.v1.CloseQueueRequest;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.CreatePipeRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.GetQueueRequest;
import dev.forkd.v1.PipeServiceGrpc;
import dev.forkd.v1.ProduceRequest;
import dev.forkd.v1.ProduceResponse;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueInfo;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.RecvRequest;
import dev.forkd.v1.SendRequest;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.TaskDoneRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** QueueService and PipeService over in-process gRPC: bad input gets the right code and changes nothing; streams. */
@Timeout(30)
class QueueServiceTest {

    private InProcessServer server;
    private ManagedChannel channel;
    private QueueServiceGrpc.QueueServiceBlockingStub queues;

    @BeforeEach
    void start() throws Exception {
        server = InProcessServer.start();
        channel = server.channel();
        queues = QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private static QueueItem item(String s) {
        return QueueItem.newBuilder().setData(ByteString.copyFromUtf8(s)).build();
    }

    private QueueInfo create(String name, long maxsize) {
        return queues.create(CreateQueueRequest.newBuilder().setName(name).setMaxsize(maxsize).build()).getQueue();
    }

    private QueueInfo info(String q) {
        return queues.get(GetQueueRequest.newBuilder().setName(q).build()).getQueue();
    }

    private static StatusRuntimeException fails(Status.Code code, org.junit.jupiter.api.function.Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        return e;
    }



    @Test
    void durableOnAServerThatKeepsNoStateIsRefusedNamingTheFieldAndMakesNoQueue() throws Exception {
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> queues.create(CreateQueueRequest.newBuilder()
                .setName("d").setDurable(true).build()));
        assertEquals("FIELD_INVALID", reason(e));
        var bad = io.grpc.protobuf.StatusProto.fromThrowable(e).getDetails(1).unpack(com.google.rpc.BadRequest.class);
        assertEquals("durable", bad.getFieldViolations(0).getField());
        assertTrue(e.getStatus().getDescription().contains("--state-dir none"), e.getStatus().getDescription());
        fails(Status.Code.NOT_FOUND, () -> info("d"));
        assertFalse(create("m", 10).getDurable(), "queues are in memory by default");
    }

    @Test
    void unknownQueueIsNotFoundNamingIt() {
        var e = fails(Status.Code.NOT_FOUND, () -> queues.take(TakeRequest.newBuilder().setName("nope").build()));
        assertTrue(e.getStatus().getDescription().contains("\"nope\""), e.getStatus().getDescription());
    }

    @Test
    void putToAClosedQueueFailsAndChangesNothing() throws Exception {
        create("c", 10);
        queues.put(PutRequest.newBuilder().setName("c").addItems(item("a")).build());
        queues.close(CloseQueueRequest.newBuilder().setName("c").build());
        var e = fails(Status.Code.FAILED_PRECONDITION,
                () -> queues.put(PutRequest.newBuilder().setName("c").addItems(item("b")).build()));
        assertEquals("QUEUE_CLOSED", reason(e));
        assertTrue(e.getStatus().getDescription().contains("closed"));
        assertEquals(1, info("c").getSize());
        assertEquals(1, info("c").getTotalPut());
    }

    @Test
    void taskDoneMoreThanPutsFailsAndChangesNothing() throws Exception {
        create("t", 10);
        queues.put(PutRequest.newBuilder().setName("t").addItems(item("a")).build());
        var e = fails(Status.Code.FAILED_PRECONDITION,
                () -> queues.taskDone(TaskDoneRequest.newBuilder().setName("t").setCount(2).build()));
        assertEquals("TASK_DONE_TOO_MANY", reason(e));
        assertTrue(e.getStatus().getDescription().contains("too many"), e.getStatus().getDescription());
        assertEquals(1, info("t").getUnfinished());
    }

    @Test
    void negativeTimeoutIsInvalidNamingTheField() throws Exception {
        create("n", 10);
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> queues.put(PutRequest.newBuilder().setName("n")
                .addItems(item("a")).setTimeout(Duration.newBuilder().setSeconds(-1)).build()));
        assertEquals("timeout", field(e));
        assertEquals(0, info("n").getSize());
        var t = fails(Status.Code.INVALID_ARGUMENT, () -> queues.take(TakeRequest.newBuilder().setName("n")
                .setTimeout(Duration.newBuilder().setNanos(-5)).build()));
        assertEquals("timeout", field(t));
    }

    @Test
    void negativeOrTooLargeMaxsizeIsInvalidAndMakesNoQueue() throws Exception {
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> create("m", -1));
        assertEquals("maxsize", field(e));
        var big = fails(Status.Code.INVALID_ARGUMENT, () -> create("m", 1001));
        assertTrue(big.getStatus().getDescription().contains("1000"), big.getStatus().getDescription());
        fails(Status.Code.NOT_FOUND, () -> info("m"));
    }

    @Test
    void oversizedItemIsInvalidNamingTheLimitAndNothingIsPut() throws Exception {
        create("o", 10);
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> queues.put(PutRequest.newBuilder().setName("o")
                .addItems(item("ok")).addItems(QueueItem.newBuilder().setData(ByteString.copyFrom(new byte[1025]))).build()));
        assertEquals("items[1].data", field(e));
        assertTrue(e.getStatus().getDescription().contains("1024 bytes"), e.getStatus().getDescription());
        assertEquals(0, info("o").getSize());
    }

    @Test
    void takenNameIsAlreadyExists() {
        create("dup", 1);
        fails(Status.Code.ALREADY_EXISTS, () -> create("dup", 1));
    }

    @Test
    void timedOutTakeIsAResultNotAnError() {
        create("e", 1);
        var r = queues.take(TakeRequest.newBuilder().setName("e").setTimeout(Duration.newBuilder().setNanos(20_000_000)).build());
        assertTrue(r.getTimedOut());
    }

    @Test
    void produceThenConsumeWithAcksAndCancelledConsumerGivesItemsBack() throws Exception {
        create("s", 100);
        CompletableFuture<Long> produced = new CompletableFuture<>();
        var async = QueueServiceGrpc.newStub(channel);
        StreamObserver<ProduceRequest> p = async.produce(new StreamObserver<>() {
            long put;

            @Override
            public void onNext(ProduceResponse r) {
                put = r.getPut();
            }

            @Override
            public void onError(Throwable t) {
                produced.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                produced.complete(put);
            }
        });
        for (int b = 0; b < 5; b++) {
            var req = ProduceRequest.newBuilder().setName("s");
            for (int i = 0; i < 10; i++) {
                req.addItems(item(Integer.toString(b * 10 + i)));
            }
            p.onNext(req.build());
        }
        p.onCompleted();
        assertEquals(50L, produced.get(10, TimeUnit.SECONDS));

        // A consumer takes 20 with credit, acks the first 5, then its stream is cancelled.
        List<ConsumeResponse> got = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> twenty = new CompletableFuture<>();
        var ctx = io.grpc.Context.current().withCancellation();
        StreamObserver<ConsumeRequest>[] c = new StreamObserver[1];
        ctx.run(() -> c[0] = async.consume(new StreamObserver<>() {
            int n;

            @Override
            public void onNext(ConsumeResponse r) {
                got.add(r);
                n += r.getDeliveriesCount();
                if (n >= 20) {
                    twenty.complete(n);
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        }));
        c[0].onNext(ConsumeRequest.newBuilder().setName("s").setCredit(20).build());
        assertEquals(20, twenty.get(10, TimeUnit.SECONDS));
        long fifthTag = got.stream().flatMap(r -> r.getDeliveriesList().stream()).toList().get(4).getTag();
        c[0].onNext(ConsumeRequest.newBuilder().setAckThrough(fifthTag).build());
        assertEquals(15, awaitInFlight("s", 15).getInFlight()); // the ack is asynchronous
        ctx.cancel(null);
        // No sleep: the cancel reaches the server as part of the in-process call on this thread, and
        // the next call is ordered after it on the same channel.
        QueueInfo after = awaitInFlight("s", 0);
        assertEquals(45, after.getSize());
        var rest = queues.take(TakeRequest.newBuilder().setName("s").setMaxItems(100).build());
        assertEquals("5", rest.getItems(0).getData().toStringUtf8()); // the unacked come back first, in order
        assertEquals("49", rest.getItems(44).getData().toStringUtf8());
    }

    private QueueInfo awaitInFlight(String q, long expected) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        QueueInfo i = info(q);
        while (i.getInFlight() != expected && System.nanoTime() < end) {
            Thread.onSpinWait();
            i = info(q);
        }
        assertEquals(expected, i.getInFlight());
        return i;
    }

    @Test
    void pipeEndClosedGivesEofAndBadEndIdsAreInvalid() {
        var pipes = PipeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        var p = pipes.create(CreatePipeRequest.newBuilder().setName("x").setDuplex(true).build()).getPipe();
        pipes.send(SendRequest.newBuilder().setName("x.1").addMessages(ByteString.copyFromUtf8("hi")).build());
        pipes.closeEnd(dev.forkd.v1.CloseEndRequest.newBuilder().setName(p.getEnds(1).getId()).build());
        assertEquals("hi", pipes.recv(RecvRequest.newBuilder().setName("x.0").build()).getMessages(0).toStringUtf8());
        assertTrue(pipes.recv(RecvRequest.newBuilder().setName("x.0").build()).getEof());
        fails(Status.Code.INVALID_ARGUMENT, () -> pipes.recv(RecvRequest.newBuilder().setName("x.7").build()));
        fails(Status.Code.NOT_FOUND, () -> pipes.recv(RecvRequest.newBuilder().setName("nope.0").build()));
    }

    @Test
    void pipesAreNamedPipeNTheirEndsPipeNDotKAndListedAPageAtATime() {
        var pipes = PipeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        var made = new java.util.ArrayList<String>();
        for (int i = 0; i < 3; i++) {
            var p = pipes.create(CreatePipeRequest.newBuilder().build()).getPipe();
            assertTrue(p.getId().matches("pipe-[0-9]+"), p.getId());
            assertEquals(p.getId() + ".0", p.getEnds(0).getId());
            made.add(p.getId());
        }
        var first = pipes.list(dev.forkd.v1.ListPipesRequest.newBuilder().setPageSize(2).build());
        assertEquals(2, first.getPipesCount());
        var rest = pipes.list(dev.forkd.v1.ListPipesRequest.newBuilder().setPageToken(first.getNextPageToken()).build());
        var listed = new java.util.ArrayList<String>();
        first.getPipesList().forEach(p -> listed.add(p.getId()));
        rest.getPipesList().forEach(p -> listed.add(p.getId()));
        assertTrue(listed.containsAll(made) && listed.size() == made.size(), listed + " vs " + made);
        assertEquals("", rest.getNextPageToken());
        // A token from another list is refused, not misread.
        fails(Status.Code.INVALID_ARGUMENT, () -> dev.forkd.v1.QueueServiceGrpc.newBlockingStub(channel)
                .list(dev.forkd.v1.ListQueuesRequest.newBuilder().setPageToken(first.getNextPageToken()).build()));
    }
}
