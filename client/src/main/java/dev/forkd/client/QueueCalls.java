package dev.forkd.client;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import dev.forkd.v1.CloseQueueRequest;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.DeleteQueueRequest;
import dev.forkd.v1.JoinQueueRequest;
import dev.forkd.v1.ProduceRequest;
import dev.forkd.v1.ProduceResponse;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.SizeRequest;
import dev.forkd.v1.SizeResponse;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.TaskDoneRequest;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;

/** The queue RPCs for one queue, in the library's types: the only queue code that knows the protos. */
final class QueueCalls {

    /** What a take answered: the items, or that it timed out, or that the queue is closed and drained. */
    record Taken(List<byte[]> items, boolean closed) {}

    /** Size, room and the unfinished count. */
    record Size(long size, boolean full, long unfinished, boolean closed) {}

    private final Rpc rpc;
    private final String name;
    private long capacity;
    private boolean durable;

    QueueCalls(Rpc rpc, String name) {
        this.rpc = rpc;
        this.name = name;
    }

    String name() {
        return name;
    }

    /** The capacity the queue has (0: unbounded), which may differ from the one asked if it existed. */
    long capacity() {
        return capacity;
    }

    /** Whether the queue is kept in the server's state store. */
    boolean durable() {
        return durable;
    }

    /** Creates the queue unless it exists; a {@code durable} one survives a restart of the server. */
    void create(long maxsize, boolean durable) {
        var queue = Rpc.call(() -> rpc.queues().create(CreateQueueRequest.newBuilder().setName(name)
                .setMaxsize(maxsize).setIfNotExists(true).setDurable(durable).build())).getQueue();
        capacity = queue.getMaxsize();
        this.durable = queue.getDurable();
    }

    /** Puts all of {@code items} or none: false when the timeout (null: none) passed without room. */
    ListenableFuture<Boolean> put(List<byte[]> items, Duration timeout) {
        PutRequest.Builder b = PutRequest.newBuilder().setName(name);
        items.forEach(i -> b.addItems(item(i)));
        if (timeout != null) {
            b.setTimeout(ProtoTime.of(timeout));
        }
        return Rpc.map(rpc.queuesWaiting(timeout).put(b.build()), r -> !r.getTimedOut());
    }

    /** Takes up to {@code max} items, waiting up to {@code timeout} (null: no limit). */
    ListenableFuture<Taken> take(int max, Duration timeout) {
        TakeRequest.Builder b = TakeRequest.newBuilder().setName(name).setMaxItems(max);
        if (timeout != null) {
            b.setTimeout(ProtoTime.of(timeout));
        }
        return Rpc.map(rpc.queuesWaiting(timeout).take(b.build()), r -> new Taken(
                r.getItemsList().stream().map(i -> i.getData().toByteArray()).toList(), r.getClosed()));
    }

    Size size() {
        SizeResponse r = Rpc.call(() -> rpc.queues().size(SizeRequest.newBuilder().setName(name).build()));
        return new Size(r.getSize(), r.getFull(), r.getUnfinished(), r.getClosed());
    }

    void taskDone(int count) {
        Rpc.call(() -> rpc.queues().taskDone(TaskDoneRequest.newBuilder().setName(name).setCount(count).build()));
    }

    /** True when every item put was marked done within {@code timeout} (null: no limit). */
    ListenableFuture<Boolean> join(Duration timeout) {
        JoinQueueRequest.Builder b = JoinQueueRequest.newBuilder().setName(name);
        if (timeout != null) {
            b.setTimeout(ProtoTime.of(timeout));
        }
        return Rpc.map(rpc.queuesWaiting(timeout).join(b.build()), r -> !r.getTimedOut());
    }

    void close() {
        Rpc.call(() -> rpc.queues().close(CloseQueueRequest.newBuilder().setName(name).build()));
    }

    void delete() {
        Rpc.call(() -> rpc.queues().delete(DeleteQueueRequest.newBuilder().setName(name).build()));
    }

    StreamObserver<ProduceRequest> produce(ClientResponseObserver<ProduceRequest, ProduceResponse> observer) {
        return rpc.queuesAsync().produce(observer);
    }

    StreamObserver<ConsumeRequest> consume(ClientResponseObserver<ConsumeRequest, ConsumeResponse> observer) {
        return rpc.queuesAsync().consume(observer);
    }

    ConsumeRequest firstCredit(int credit) {
        return ConsumeRequest.newBuilder().setName(name).setCredit(credit).build();
    }

    static ConsumeRequest ackThrough(long tag, int moreCredit) {
        return ConsumeRequest.newBuilder().setAckThrough(tag).setCredit(moreCredit).build();
    }

    ProduceRequest batch(List<byte[]> items) {
        ProduceRequest.Builder b = ProduceRequest.newBuilder().setName(name);
        items.forEach(i -> b.addItems(item(i)));
        return b.build();
    }

    private static QueueItem item(byte[] data) {
        return QueueItem.newBuilder().setData(ByteString.copyFrom(data)).build();
    }
}
