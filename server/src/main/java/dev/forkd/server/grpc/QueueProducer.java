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
 * the queue, so a full queue holds its producer back; each batch in is acked with the running count.
 */
final class QueueProducer implements StreamObserver<ProduceRequest> {

    private final QueueRegistry queues;
    private final ServerCallStreamObserver<ProduceResponse> out;
    private ItemQueue queue;
    private ItemQueue.Pending pending = ItemQueue.Pending.DONE;
    private long put;
    private boolean inFlight;
    private boolean clientCompleted;
    private boolean done;

    QueueProducer(QueueRegistry queues, ServerCallStreamObserver<ProduceResponse> out) {
        this.queues = queues;
        this.out = out;
        out.disableAutoRequest();
        out.setOnCancelHandler(this::cancelled);
        out.request(1);
    }

    @Override
    public synchronized void onNext(ProduceRequest r) {
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
                out.request(1);
                return;
            }
            inFlight = true;
            pending = queue.produce(QueueServiceAdapter.items(r.getItemsList()), this::batchDone);
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private synchronized void batchDone(Outcomes.Put outcome) {
        inFlight = false;
        if (done) {
            return;
        }
        switch (outcome) {
            case Outcomes.Put.Done d -> {
                put += d.put();
                out.onNext(ProduceResponse.newBuilder().setPut(put).build());
                if (clientCompleted) {
                    finish();
                    out.onCompleted();
                } else {
                    out.request(1);
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
        if (!inFlight && !done) {
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
