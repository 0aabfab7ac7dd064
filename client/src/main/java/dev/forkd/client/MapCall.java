package dev.forkd.client;

import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One Map stream as an iterator of results, with flow control both ways and no thread of its own:
 * the reader's thread sends input while gRPC's transport has room and fewer than {@link #WINDOW}
 * items await their results, then waits for the next event. Responses are asked for one message at
 * a time, so at most one batch of results waits here; the input is read only as fast as results are.
 * A failed task throws {@link TaskFailedException} at its place in the results.
 */
final class MapCall implements Iterator<TaskResult>, AutoCloseable {

    /** Items per request message. */
    private static final int BATCH = 64;
    /** Items sent and not yet answered. */
    private static final int WINDOW = 1024;

    private sealed interface Event {
        record Ready() implements Event {}
        record Results(MapResponse response) implements Event {}
        record Failed(Throwable cause) implements Event {}
        record Ended() implements Event {}
    }

    private final Iterator<PoolCalls.Input> input;
    // Bounded by construction: one READY at a time (flag), one response per request(1), one end.
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final AtomicBoolean readyQueued = new AtomicBoolean();
    private final Deque<dev.forkd.v1.TaskResult> buffer = new ArrayDeque<>();
    private ClientCallStreamObserver<MapRequest> call;
    private long sent;
    private long answered;
    private boolean inputClosed;
    private boolean finished;

    MapCall(PoolCalls calls, String pool, boolean ordered, Iterator<PoolCalls.Input> input) {
        this.input = input;
        calls.map(new ClientResponseObserver<MapRequest, MapResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<MapRequest> requestStream) {
                call = requestStream;
                requestStream.disableAutoRequestWithInitial(1);
                requestStream.setOnReadyHandler(() -> {
                    if (readyQueued.compareAndSet(false, true)) {
                        events.add(new Event.Ready());
                    }
                });
            }

            @Override
            public void onNext(MapResponse value) {
                events.add(new Event.Results(value));
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
        call.onNext(PoolCalls.mapStart(pool, ordered));
    }

    @Override
    public boolean hasNext() {
        while (buffer.isEmpty()) {
            if (finished) {
                return false;
            }
            send();
            Event e;
            try {
                e = events.take();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while waiting for pool results", ie);
            }
            switch (e) {
                case Event.Ready() -> readyQueued.set(false);
                case Event.Results(MapResponse r) -> {
                    buffer.addAll(PoolCalls.results(r));
                    answered += r.getResultsCount();
                    call.request(1);
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
    public TaskResult next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return PoolCalls.result(buffer.poll());
    }

    private void send() {
        while (!inputClosed && call.isReady() && sent - answered < WINDOW) {
            List<PoolCalls.Input> batch = new ArrayList<>(BATCH);
            while (batch.size() < BATCH && sent - answered + batch.size() < WINDOW && input.hasNext()) {
                batch.add(input.next());
            }
            if (!batch.isEmpty()) {
                call.onNext(PoolCalls.mapItems(batch));
                sent += batch.size();
            }
            if (!input.hasNext()) {
                inputClosed = true;
                call.onCompleted();
            }
        }
    }

    /** Stops the stream early; results not read are dropped. */
    @Override
    public void close() {
        if (!finished) {
            finished = true;
            call.cancel("the reader closed the results", null);
        }
    }
}
