package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.CreatePipeRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.GetQueueRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.PipeServiceGrpc;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.RecvRequest;
import dev.forkd.v1.SendRequest;
import dev.forkd.v1.TakeRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client with gRPC's defaults (4 MiB messages, 8 KiB metadata) can read every reply: batches of
 * 1 MiB items come across several calls with nothing lost, and an error about a 4,000-character
 * name stays small enough not to break the call or the channel.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DefaultClientLimitsTest {

    private static final int MIB = 1 << 20;
    private static RealServer forkd;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
        channel = forkd.defaultChannel();
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        forkd.closeLeavingNothing();
    }

    private static QueueServiceGrpc.QueueServiceBlockingStub queues() {
        return QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** A 1 MiB item whose first byte is {@code n}, to tell them apart. */
    private static ByteString big(int n) {
        byte[] b = new byte[MIB];
        b[0] = (byte) n;
        return ByteString.copyFrom(b);
    }

    private static void fill(String queue, int n) {
        queues().create(CreateQueueRequest.newBuilder().setName(queue).build());
        for (int i = 0; i < n; i++) { // one per call: a request is bounded by the server's 4 MiB too
            queues().put(PutRequest.newBuilder().setName(queue)
                    .addItems(QueueItem.newBuilder().setData(big(i))).build());
        }
    }

    @Test
    void takeOfFiveOneMibItemsComesAcrossInSeveralRepliesWithNothingLost() {
        fill("take5", 5);
        List<Integer> got = new ArrayList<>();
        int calls = 0;
        while (got.size() < 5) {
            var r = queues().take(TakeRequest.newBuilder().setName("take5").setMaxItems(5).build());
            assertTrue(r.getItemsCount() >= 1);
            r.getItemsList().forEach(i -> got.add((int) i.getData().byteAt(0)));
            calls++;
        }
        assertEquals(List.of(0, 1, 2, 3, 4), got);
        assertTrue(calls >= 2, "5 MiB in one reply");
        assertEquals(0, queues().get(GetQueueRequest.newBuilder().setName("take5").build()).getQueue().getSize());
    }

    @Test
    void recvOfFiveOneMibMessagesComesAcrossInSeveralRepliesWithNothingLost() {
        var pipes = PipeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        var pipe = pipes.create(CreatePipeRequest.newBuilder().setName("recv5").build()).getPipe();
        String reader = pipe.getEnds(0).getId();
        String writer = pipe.getEnds(1).getId();
        for (int i = 0; i < 5; i++) {
            pipes.send(SendRequest.newBuilder().setName(writer).addMessages(big(i)).build());
        }
        List<Integer> got = new ArrayList<>();
        int calls = 0;
        while (got.size() < 5) {
            var r = PipeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .recv(RecvRequest.newBuilder().setName(reader).setMaxMessages(5).build());
            assertTrue(r.getMessagesCount() >= 1, r.toString().length() + " bytes without messages");
            r.getMessagesList().forEach(m -> got.add((int) m.byteAt(0)));
            calls++;
        }
        assertEquals(List.of(0, 1, 2, 3, 4), got);
        assertTrue(calls >= 2, "5 MiB in one reply");
    }

    @Test
    void consumeWithCreditFiveDeliversAllFiveInMessagesADefaultClientReads() throws Exception {
        fill("consume5", 5);
        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        StreamObserver<ConsumeRequest> requests = QueueServiceGrpc.newStub(channel).consume(new StreamObserver<>() {
            @Override
            public void onNext(ConsumeResponse r) {
                events.add(r);
            }

            @Override
            public void onError(Throwable t) {
                events.add(t);
            }

            @Override
            public void onCompleted() {
                events.add("completed");
            }
        });
        requests.onNext(ConsumeRequest.newBuilder().setName("consume5").setCredit(5).build());
        List<Integer> got = new ArrayList<>();
        long lastTag = 0;
        while (got.size() < 5) {
            Object e = events.poll(30, TimeUnit.SECONDS);
            if (!(e instanceof ConsumeResponse r)) {
                throw new AssertionError("the stream ended before 5 deliveries: " + e);
            }
            for (var d : r.getDeliveriesList()) {
                got.add((int) d.getItem().getData().byteAt(0));
                lastTag = d.getTag();
            }
        }
        assertEquals(List.of(0, 1, 2, 3, 4), got);
        requests.onNext(ConsumeRequest.newBuilder().setAckThrough(lastTag).build());
        requests.onCompleted();
        Object end = events.poll(30, TimeUnit.SECONDS);
        assertEquals("completed", end);
        var info = queues().get(GetQueueRequest.newBuilder().setName("consume5").build()).getQueue();
        assertEquals(0, info.getSize() + info.getInFlight(), info.toString());
    }

    @Test
    void anErrorAboutAHugeNameStaysSmallAndTheChannelGoesOn() {
        String name = "n".repeat(4000);
        var e = assertThrows(StatusRuntimeException.class, () -> queues().get(GetQueueRequest.newBuilder()
                .setName(name).build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), e.getStatus().toString());
        String description = e.getStatus().getDescription();
        assertTrue(description.length() < 300, description.length() + " characters");
        assertTrue(description.contains("…"), description);
        long trailerBytes = 0;
        for (String key : e.getTrailers().keys()) {
            if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                for (byte[] v : e.getTrailers().getAll(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER))) {
                    trailerBytes += key.length() + v.length * 4L / 3;
                }
            } else {
                for (String v : e.getTrailers().getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER))) {
                    trailerBytes += key.length() + v.length();
                }
            }
        }
        assertTrue(trailerBytes < 4096, trailerBytes + " bytes of trailers");
        // Other calls on the same channel are unaffected.
        ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .list(ListProcessesRequest.getDefaultInstance());
    }
}
