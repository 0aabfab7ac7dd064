package dev.forkd.client;

import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.Delivery;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A queue's items as an iterator over one Consume stream: the server pushes no more than the credit
 * granted ({@link #CREDIT}), an item is acknowledged once handed to the reader, and credit is given
 * back in batches as items are read. Items pushed but not yet read are not acknowledged, so closing
 * early returns them to the head of the queue for other consumers.
 */
final class Consumer implements Iterator<byte[]>, AutoCloseable {

    /** Items the server may push ahead of the reader. */
    static final int CREDIT = 256;

    private sealed interface Event {
        record Items(ConsumeResponse response) implements Event {}
        record Failed(Throwable cause) implements Event {}
        record Ended() implements Event {}
    }

    // Bounded by the credit: the server pushes at most CREDIT items ahead, in few messages.
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Deque<Delivery> buffer = new ArrayDeque<>();
    private final ClientCallStreamObserver<ConsumeRequest> call;
    private int readNotAcked;
    private long lastTag;
    private boolean finished;

    Consumer(QueueCalls calls) {
        AtomicReference<ClientCallStreamObserver<ConsumeRequest>> holder = new AtomicReference<>();
        calls.consume(new ClientResponseObserver<ConsumeRequest, ConsumeResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<ConsumeRequest> requestStream) {
                holder.set(requestStream);
            }

            @Override
            public void onNext(ConsumeResponse value) {
                events.add(new Event.Items(value));
            }

            @Override
            public void onError(Throwable t) {
                events.add(new Event.Failed(t));
            }

            @Override
            public void onCompleted() {
                events.add(new Event.Ended());
            }
        });
        call = holder.get();
        call.onNext(calls.firstCredit(CREDIT));
    }

    @Override
    public boolean hasNext() {
        while (buffer.isEmpty()) {
            if (finished) {
                return false;
            }
            ack(); // before waiting: the server may be out of credit
            Event e;
            try {
                e = events.take();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while waiting for queue items", ie);
            }
            switch (e) {
                case Event.Items(ConsumeResponse r) -> {
                    buffer.addAll(r.getDeliveriesList());
                    if (r.getClosed() && r.getDeliveriesCount() == 0) {
                        finish();
                    }
                }
                case Event.Failed(Throwable t) -> {
                    finished = true;
                    throw t instanceof StatusRuntimeException sre ? ForkdException.from(sre)
                            : new IllegalStateException(t);
                }
                case Event.Ended() -> finished = true;
            }
        }
        return true;
    }

    @Override
    public byte[] next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Delivery d = buffer.poll();
        lastTag = d.getTag();
        if (++readNotAcked >= CREDIT / 2) {
            ack();
        }
        return d.getItem().getData().toByteArray();
    }

    /** Acknowledges what was read and grants as much credit again. */
    private void ack() {
        if (readNotAcked > 0 && !finished) {
            call.onNext(QueueCalls.ackThrough(lastTag, readNotAcked));
            readNotAcked = 0;
        }
    }

    private void finish() {
        ack();
        finished = true;
        call.onCompleted();
    }

    /** Acknowledges what was read; what was pushed and not read goes back to the queue. */
    @Override
    public void close() {
        if (!finished) {
            ack();
            finished = true;
            call.onCompleted();
        }
    }
}
