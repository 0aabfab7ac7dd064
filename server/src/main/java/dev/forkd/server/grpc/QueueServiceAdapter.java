package dev.forkd.server.grpc;

import com.google.protobuf.UnsafeByteOperations;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.queue.Item;
import dev.forkd.server.queue.ItemQueue;
import dev.forkd.server.queue.Outcomes;
import dev.forkd.server.queue.QueueRegistry;
import dev.forkd.server.queue.QueueSnapshot;
import dev.forkd.v1.CloseQueueRequest;
import dev.forkd.v1.CloseQueueResponse;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.CreateQueueResponse;
import dev.forkd.v1.DeleteQueueRequest;
import dev.forkd.v1.DeleteQueueResponse;
import dev.forkd.v1.GetQueueRequest;
import dev.forkd.v1.GetQueueResponse;
import dev.forkd.v1.JoinQueueRequest;
import dev.forkd.v1.JoinQueueResponse;
import dev.forkd.v1.ListQueuesRequest;
import dev.forkd.v1.ListQueuesResponse;
import dev.forkd.v1.ProduceRequest;
import dev.forkd.v1.ProduceResponse;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.PutResponse;
import dev.forkd.v1.QueueInfo;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.SizeRequest;
import dev.forkd.v1.SizeResponse;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.TakeResponse;
import dev.forkd.v1.TaskDoneRequest;
import dev.forkd.v1.TaskDoneResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;

/** QueueService: decode, call the {@link QueueRegistry} and its queues, encode. */
public final class QueueServiceAdapter extends QueueServiceGrpc.QueueServiceImplBase {

    private static final int MAX_PAGE = 1000;

    private final QueueRegistry queues;
    private final Executor executor;

    public QueueServiceAdapter(QueueRegistry queues, Executor executor) {
        this.queues = queues;
        this.executor = executor;
    }

    @Override
    public void create(CreateQueueRequest r, StreamObserver<CreateQueueResponse> out) {
        try {
            var c = queues.create(r.getName().isEmpty() ? Optional.empty() : Optional.of(r.getName()),
                    r.getMaxsize(), r.getIfNotExists(), r.getDurable());
            // A durable queue is answered once the store has it, from the store's callback.
            c.stored().whenComplete((ok, e) -> {
                if (e != null) {
                    out.onError(ErrorMapper.toStatus(QueueRegistry.storeFailed(e, "queue " + c.queue().id())));
                    return;
                }
                out.onNext(CreateQueueResponse.newBuilder().setQueue(info(c.queue().snapshot()))
                        .setCreated(c.created()).build());
                out.onCompleted();
            });
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void get(GetQueueRequest r, StreamObserver<GetQueueResponse> out) {
        Calls.unary(out, () -> GetQueueResponse.newBuilder().setQueue(info(queues.get(r.getName()).snapshot())).build());
    }

    @Override
    public void list(ListQueuesRequest r, StreamObserver<ListQueuesResponse> out) {
        Calls.unary(out, () -> {
            int size = r.getPageSize();
            if (size < 0 || size > MAX_PAGE) {
                throw new InvalidArgument("page_size", "must be between 0 (default " + MAX_PAGE + ") and " + MAX_PAGE);
            }
            if (size == 0) {
                size = MAX_PAGE;
            }
            long after = PageTokens.afterSeq(r.getPageToken(), "queues");
            List<ItemQueue> found = queues.list(after, size + 1);
            var b = ListQueuesResponse.newBuilder();
            for (int i = 0; i < Math.min(size, found.size()); i++) {
                b.addQueues(info(found.get(i).snapshot()));
            }
            if (found.size() > size) {
                b.setNextPageToken(PageTokens.next("queues", Long.toString(queues.seqOf(found.get(size - 1)))));
            }
            return b.build();
        });
    }

    @Override
    public void delete(DeleteQueueRequest r, StreamObserver<DeleteQueueResponse> out) {
        Calls.unary(out, () -> {
            var d = queues.delete(r.getName());
            return DeleteQueueResponse.newBuilder().setId(d.id()).setDroppedItems(d.droppedItems()).build();
        });
    }

    @Override
    public void close(CloseQueueRequest r, StreamObserver<CloseQueueResponse> out) {
        Calls.unary(out, () -> CloseQueueResponse.newBuilder().setQueue(info(queues.get(r.getName()).close())).build());
    }

    @Override
    public void size(SizeRequest r, StreamObserver<SizeResponse> out) {
        Calls.unary(out, () -> {
            QueueSnapshot s = queues.get(r.getName()).snapshot();
            return SizeResponse.newBuilder().setSize(s.size()).setEmpty(s.size() == 0).setFull(s.full())
                    .setUnfinished(s.unfinished()).setClosed(s.closed()).build();
        });
    }

    @Override
    public void taskDone(TaskDoneRequest r, StreamObserver<TaskDoneResponse> out) {
        Calls.unary(out, () -> {
            if (r.getCount() < 0) {
                throw new InvalidArgument("count", "must not be negative (0 means 1)");
            }
            long left = queues.get(r.getName()).taskDone(r.getCount() == 0 ? 1 : r.getCount());
            return TaskDoneResponse.newBuilder().setUnfinished(left).build();
        });
    }

    @Override
    public void put(PutRequest r, StreamObserver<PutResponse> out) {
        var call = (ServerCallStreamObserver<PutResponse>) out;
        try {
            ItemQueue q = queues.get(r.getName());
            Optional<Duration> timeout = timeout(r.hasTimeout(), r.getTimeout());
            var pending = q.put(items(r.getItemsList()), timeout, outcome -> {
                if (call.isCancelled()) {
                    return;
                }
                switch (outcome) {
                    case Outcomes.Put.Done d -> {
                        out.onNext(PutResponse.newBuilder().setPut(d.put()).setSize(d.size()).build());
                        out.onCompleted();
                    }
                    case Outcomes.Put.TimedOut t -> {
                        out.onNext(PutResponse.newBuilder().setTimedOut(true).setSize(t.size()).build());
                        out.onCompleted();
                    }
                    case Outcomes.Put.Failed f -> out.onError(ErrorMapper.toStatus(f.error()));
                }
            });
            call.setOnCancelHandler(pending::cancel);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void take(TakeRequest r, StreamObserver<TakeResponse> out) {
        var call = (ServerCallStreamObserver<TakeResponse>) out;
        try {
            if (r.getMaxItems() < 0) {
                throw new InvalidArgument("max_items", "must not be negative (0 means 1)");
            }
            ItemQueue q = queues.get(r.getName());
            Optional<Duration> timeout = timeout(r.hasTimeout(), r.getTimeout());
            var pending = q.take(r.getMaxItems() == 0 ? 1 : r.getMaxItems(), timeout, outcome -> {
                // Only when cancelled after the queue handed the items over: they leave with the call.
                if (call.isCancelled()) {
                    return;
                }
                switch (outcome) {
                    case Outcomes.Take.Items i -> {
                        var b = TakeResponse.newBuilder();
                        for (Item it : i.items()) {
                            b.addItems(item(it));
                        }
                        out.onNext(b.build());
                        out.onCompleted();
                    }
                    case Outcomes.Take.TimedOut t -> {
                        out.onNext(TakeResponse.newBuilder().setTimedOut(true).build());
                        out.onCompleted();
                    }
                    case Outcomes.Take.Drained d -> {
                        out.onNext(TakeResponse.newBuilder().setClosed(true).build());
                        out.onCompleted();
                    }
                    case Outcomes.Take.Failed f -> out.onError(ErrorMapper.toStatus(f.error()));
                }
            }, call::isCancelled);
            call.setOnCancelHandler(pending::cancel);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public void join(JoinQueueRequest r, StreamObserver<JoinQueueResponse> out) {
        var call = (ServerCallStreamObserver<JoinQueueResponse>) out;
        try {
            ItemQueue q = queues.get(r.getName());
            var pending = q.join(timeout(r.hasTimeout(), r.getTimeout()), outcome -> {
                if (call.isCancelled()) {
                    return;
                }
                switch (outcome) {
                    case Outcomes.Join.Done d -> {
                        out.onNext(JoinQueueResponse.getDefaultInstance());
                        out.onCompleted();
                    }
                    case Outcomes.Join.TimedOut t -> {
                        out.onNext(JoinQueueResponse.newBuilder().setTimedOut(true).setUnfinished(t.unfinished()).build());
                        out.onCompleted();
                    }
                    case Outcomes.Join.Failed f -> out.onError(ErrorMapper.toStatus(f.error()));
                }
            });
            call.setOnCancelHandler(pending::cancel);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    @Override
    public StreamObserver<ProduceRequest> produce(StreamObserver<ProduceResponse> out) {
        return new QueueProducer(queues, (ServerCallStreamObserver<ProduceResponse>) out);
    }

    @Override
    public StreamObserver<ConsumeRequest> consume(StreamObserver<ConsumeResponse> out) {
        return new QueueConsumeStream(queues, (ServerCallStreamObserver<ConsumeResponse>) out, executor,
                Optional.ofNullable(Metadata.SESSION_ID.get()));
    }

    static Optional<Duration> timeout(boolean has, com.google.protobuf.Duration d) {
        return Protos.timeout("timeout", has, d);
    }

    static List<Item> items(List<QueueItem> in) {
        List<Item> items = new ArrayList<>(in.size());
        for (QueueItem i : in) {
            items.add(new Item(i.getData().toByteArray(), i.getContentType()));
        }
        return items;
    }

    static QueueItem item(Item it) {
        return QueueItem.newBuilder().setData(UnsafeByteOperations.unsafeWrap(it.data()))
                .setContentType(it.contentType()).build();
    }

    static QueueInfo info(QueueSnapshot s) {
        return QueueInfo.newBuilder()
                .setId(s.id())
                .setName(s.name().orElse(""))
                .setMaxsize(s.maxsize())
                .setSize(s.size())
                .setInFlight(s.inFlight())
                .setUnfinished(s.unfinished())
                .setClosed(s.closed())
                .setDrained(s.drained())
                .setProducers(s.producers())
                .setConsumers(s.consumers())
                .setBytes(s.bytes())
                .setTotalPut(s.totalPut())
                .setTotalTaken(s.totalTaken())
                .setDurable(s.durable())
                .build();
    }
}
