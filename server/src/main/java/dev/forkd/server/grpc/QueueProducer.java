package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.queue.ItemQueue;
import dev.forkd.server.queue.Outcomes;
import dev.forkd.server.queue.QueueRegistry;
import dev.forkd.v1.ProduceRequest;
import dev.forkd.v1.ProduceResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * One Produce stream. Flow control: it asks for the next batch only once the last one is wholly in
 * the queue, so a full queue holds its producer back; each batch is acked with the running count once
 * it is in (for a durable queue: once the store has committed it). Up to {@link #UNSTORED} batches
 * that are in the queue may wait for their commit at once, so a durable queue's producer is not held
 * to one commit per batch; the acks still come in order (the store commits in order).
 */
final class QueueProducer implements StreamObserver<ProduceRequest> {

    /** Batches in the queue whose commit this stream may wait for at once. */
    static final int UNSTORED = 8;

    private final QueueRegistry queues;
    private final ServerCallStreamObserver<ProduceResponse> out;
    private ItemQueue queue;
    private ItemQueue.Pending pending = ItemQueue.Pending.DONE;
    private long put;
    /** A batch is waiting for room in the queue. */
    private boolean admitting;
    /** Batches in the queue, not yet answered (waiting for the store). */
    private int unstored;
    /** A request for the next message is outstanding. */
    private boolean requested;
    private boolean clientCompleted;
    private boolean done;

    QueueProducer(QueueRegistry queues, ServerCallStreamObserver<ProduceResponse> out) {
        this.queues = queues;
        this.out = out;
        out.disableAutoRequest();
        out.setOnCancelHandler(this::cancelled);
        requestNext();
    }

    @Override
    public synchronized void onNext(ProduceRequest r) {
        requested = false;
        if (done) {
            return;
        }
        try {
            if (queue == null) {
                queue = queues.get(r.getName());
                queue.producerOpened();
            } else if (!r.getName().isEmpty() && !r.getName().equals(queue.id())
                    && !r.getName().equals(queue.name().orElse(""))) {
                throw new InvalidArgument("name", "must not change within one Produce stream");
            }
            if (r.getItemsCount() == 0) {
                requestNext();
                return;
            }
            admitting = true;
            pending = queue.produce(QueueServiceAdapter.items(r.getItemsList()), this::batchAdmitted, this::batchDone);
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    /** Asks for the next batch if none is waiting for room and not too many wait for the store. */
    private void requestNext() {
        if (!done && !clientCompleted && !requested && !admitting && unstored < UNSTORED) {
            requested = true;
            out.request(1);
        }
    }

    private synchronized void batchAdmitted() {
        admitting = false;
        unstored++;
        requestNext();
    }

    private synchronized void batchDone(Outcomes.Put outcome) {
        if (done) {
            return;
        }
        switch (outcome) {
            case Outcomes.Put.Done d -> {
                unstored--;
                put += d.put();
                out.onNext(ProduceResponse.newBuilder().setPut(put).build());
                if (clientCompleted && unstored == 0 && !admitting) {
                    finish();
                    out.onCompleted();
                } else {
                    requestNext();
                }
            }
            case Outcomes.Put.Failed f -> fail(f.error());
            case Outcomes.Put.TimedOut t -> fail(new IllegalStateException("a produce batch timed out"));
        }
    }

    @Override
    public synchronized void onError(Throwable t) {
        cancelled();
    }

    @Override
    public synchronized void onCompleted() {
        clientCompleted = true;
        if (!admitting && unstored == 0 && !done) {
            finish();
            out.onCompleted();
        }
    }

    private synchronized void cancelled() {
        if (!done) {
            finish();
            pending.cancel(); // a batch not yet wholly in stays partly in: what is in, is in
        }
    }

    private void finish() {
        done = true;
        if (queue != null) {
            queue.producerClosed();
        }
    }

    private void fail(RuntimeException e) {
        finish();
        out.onError(ErrorMapper.toStatus(e));
    }
}
