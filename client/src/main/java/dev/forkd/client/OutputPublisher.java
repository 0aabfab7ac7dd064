package dev.forkd.client;

import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A process's output as a {@link Flow.Publisher}: each subscriber gets its own following Watch, and
 * its {@code request(n)} becomes the stream's own request for messages, so demand is flow control end
 * to end. Messages that are not output (state changes) are asked for again without spending demand.
 */
final class OutputPublisher implements Flow.Publisher<OutputChunk> {

    private final ProcessCalls calls;
    private final String id;

    OutputPublisher(ProcessCalls calls, String id) {
        this.calls = calls;
        this.id = id;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super OutputChunk> subscriber) {
        java.util.Objects.requireNonNull(subscriber);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<ClientCallStreamObserver<WatchProcessRequest>> call = new AtomicReference<>();
        // gRPC calls these one at a time, as Flow requires of onNext/onError/onComplete.
        calls.watch(id, true, new ClientResponseObserver<WatchProcessRequest, WatchProcessResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WatchProcessRequest> requestStream) {
                call.set(requestStream);
                requestStream.disableAutoRequestWithInitial(0);
            }

            @Override
            public void onNext(WatchProcessResponse value) {
                if (done.get()) {
                    return;
                }
                if (ProcessCalls.event(value) instanceof ProcessCalls.Event.Output(OutputChunk chunk)) {
                    subscriber.onNext(chunk);
                } else {
                    call.get().request(1);
                }
            }

            @Override
            public void onError(Throwable t) {
                if (done.compareAndSet(false, true)) {
                    subscriber.onError(t instanceof StatusRuntimeException sre ? ForkdException.from(sre) : t);
                }
            }

            @Override
            public void onCompleted() {
                if (done.compareAndSet(false, true)) {
                    subscriber.onComplete();
                }
            }
        });
        subscriber.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
                if (n <= 0) {
                    if (done.compareAndSet(false, true)) {
                        call.get().cancel("bad demand", null);
                        subscriber.onError(new IllegalArgumentException("request(" + n + "): demand must be positive"));
                    }
                    return;
                }
                call.get().request((int) Math.min(n, Integer.MAX_VALUE));
            }

            @Override
            public void cancel() {
                if (done.compareAndSet(false, true)) {
                    call.get().cancel("the subscriber cancelled", null);
                }
            }
        });
    }
}
