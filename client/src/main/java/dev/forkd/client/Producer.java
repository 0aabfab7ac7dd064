package dev.forkd.client;

import dev.forkd.v1.ProduceRequest;
import dev.forkd.v1.ProduceResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Many items into a queue over one Produce stream, in batches. The server reads a batch only once the
 * previous one is in the queue, and a batch is sent only while gRPC's transport has room, so a full
 * queue holds the writer back instead of piling items up in memory.
 */
final class Producer {

    /** Items and bytes per batch: many items per message, far below any message limit. */
    private static final int BATCH_ITEMS = 512;
    private static final int BATCH_BYTES = 1 << 20;

    private final QueueCalls calls;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private volatile long put;

    Producer(QueueCalls calls) {
        this.calls = calls;
    }

    /** Puts every item, in order; answers how many the server put. */
    long putAll(Iterator<byte[]> items) throws InterruptedException {
        ClientCallStreamObserver<ProduceRequest> call = (ClientCallStreamObserver<ProduceRequest>) calls.produce(
                new ClientResponseObserver<ProduceRequest, ProduceResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<ProduceRequest> requestStream) {
                        requestStream.setOnReadyHandler(Producer.this::signal);
                    }

                    @Override
                    public void onNext(ProduceResponse value) {
                        put = value.getPut();
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                        signal();
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(put);
                        signal();
                    }
                });
        try {
            while (items.hasNext()) {
                List<byte[]> batch = new ArrayList<>();
                int bytes = 0;
                while (items.hasNext() && batch.size() < BATCH_ITEMS && bytes < BATCH_BYTES) {
                    byte[] item = items.next();
                    batch.add(item);
                    bytes += item.length;
                }
                awaitReady(call);
                call.onNext(calls.batch(batch));
            }
            call.onCompleted();
            return done.get();
        } catch (InterruptedException e) {
            call.cancel("interrupted", e);
            throw e;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof StatusRuntimeException sre ? ForkdException.from(sre)
                    : new IllegalStateException(e.getCause());
        } catch (RuntimeException e) {
            call.cancel("failed", e);
            throw e;
        }
    }

    private void awaitReady(ClientCallStreamObserver<ProduceRequest> call) throws InterruptedException {
        lock.lock();
        try {
            while (!call.isReady() && !done.isDone()) {
                ready.await();
            }
        } finally {
            lock.unlock();
        }
        if (done.isCompletedExceptionally()) {
            try {
                done.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof StatusRuntimeException sre ? ForkdException.from(sre)
                        : new IllegalStateException(e.getCause());
            }
        }
    }

    private void signal() {
        lock.lock();
        try {
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
