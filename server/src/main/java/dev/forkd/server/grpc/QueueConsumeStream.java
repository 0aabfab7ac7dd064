package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.queue.Outcomes;
import dev.forkd.server.queue.QueueConsumer;
import dev.forkd.server.queue.QueueRegistry;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.Delivery;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;

/**
 * One Consume stream. The queue hands deliveries to an outbox under its lock, in order; a drain on
 * the executor sends them while the client's stream is ready, and resumes on onReady. No thread
 * waits for it. Credit bounds the outbox (and the queue's byte bound counts what is in flight).
 * When the stream ends, whatever the consumer has not acked goes back to the head of the queue.
 */
final class QueueConsumeStream implements StreamObserver<ConsumeRequest> {

    private final QueueRegistry queues;
    private final ServerCallStreamObserver<ConsumeResponse> out;
    private final SerialDrain drains;
    private final Optional<String> session;
    private final ConcurrentLinkedQueue<Object> outbox = new ConcurrentLinkedQueue<>();
    private volatile QueueConsumer consumer;
    private volatile boolean finished;
    private volatile boolean released;

    QueueConsumeStream(QueueRegistry queues, ServerCallStreamObserver<ConsumeResponse> out, Executor executor,
            Optional<String> session) {
        this.queues = queues;
        this.out = out;
        this.drains = new SerialDrain(executor, this::drain, e -> {
            finished = true;
            release();
            out.onError(ErrorMapper.toStatus(e));
        });
        this.session = session;
        out.setOnCancelHandler(this::release);
        out.setOnReadyHandler(drains::signal);
    }

    private final QueueConsumer.Sink sink = new QueueConsumer.Sink() {
        @Override
        public void deliver(List<Outcomes.Delivery> batch) {
            outbox.add(batch);
            drains.signal();
        }

        @Override
        public void end(Outcomes.ConsumerEnd why) {
            outbox.add(why);
            drains.signal();
        }
    };

    @Override
    public void onNext(ConsumeRequest r) {
        if (finished) {
            return;
        }
        try {
            if (consumer == null) {
                consumer = queues.get(r.getName()).consume(session, sink);
            } else if (!r.getName().isEmpty() && !r.getName().equals(consumer.queue().id())
                    && !r.getName().equals(consumer.queue().name().orElse(""))) {
                throw new InvalidArgument("name", "must not change within one Consume stream");
            }
            if (r.getAckTagsCount() > 0 || r.getAckThrough() > 0) {
                consumer.ack(r.getAckTagsList(), r.getAckThrough(), r.getTaskDone());
            }
            if (r.getCredit() < 0) {
                throw new InvalidArgument("credit", "must not be negative");
            }
            if (r.getCredit() > 0) {
                consumer.grant(r.getCredit());
            }
        } catch (RuntimeException e) {
            release();
            outbox.add(e);
            drains.signal();
        }
    }

    @Override
    public void onError(Throwable t) {
        release();
    }

    @Override
    public void onCompleted() {
        // The consumer stops: what it has not acked goes back; the stream ends once the outbox is sent.
        release();
        outbox.add(Boolean.TRUE);
        drains.signal();
    }

    private void release() {
        released = true; // deliveries not yet sent went back to the queue: do not send them
        QueueConsumer c = consumer;
        if (c != null) {
            c.close();
        }
    }



    private void drain() {
        while (!finished && out.isReady()) {
            Object next = outbox.poll();
            if (next == null) {
                return;
            }
            if (out.isCancelled()) {
                finished = true;
                return;
            }
            switch (next) {
                case List<?> batch when released -> {
                    // went back to the queue with the rest of what was not acked
                }
                case List<?> batch -> {
                    var b = ConsumeResponse.newBuilder();
                    for (Object o : batch) {
                        var d = (Outcomes.Delivery) o;
                        b.addDeliveries(Delivery.newBuilder().setTag(d.tag()).setRedelivered(d.redelivered())
                                .setItem(QueueServiceAdapter.item(d.item())));
                    }
                    out.onNext(b.build());
                }
                case Outcomes.ConsumerEnd.Drained d -> {
                    finished = true;
                    out.onNext(ConsumeResponse.newBuilder().setClosed(true).build());
                    out.onCompleted();
                }
                case Outcomes.ConsumerEnd.Failed f -> {
                    finished = true;
                    out.onError(ErrorMapper.toStatus(f.error()));
                }
                case RuntimeException e -> {
                    finished = true;
                    out.onError(ErrorMapper.toStatus(e));
                }
                case Boolean b -> {
                    finished = true;
                    out.onCompleted();
                }
                default -> throw new IllegalStateException("unexpected outbox entry " + next);
            }
        }
    }
}
