package dev.forkd.client;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A server-streaming Watch as a {@link Flow.Publisher}: each subscriber gets its own call, and its
 * {@code request(n)} becomes the call's own request for messages, so demand is flow control end to
 * end. A message the subscriber does not see ({@code toItem} gives empty) is asked for again without
 * spending demand.
 *
 * @param <Q> the request message
 * @param <R> the response message
 * @param <T> what the subscriber sees
 */
final class WatchPublisher<Q, R, T> implements Flow.Publisher<T> {

    private final Consumer<ClientResponseObserver<Q, R>> start;
    private final Function<R, Optional<T>> toItem;

    /**
     * @param start opens the call with the given observer
     * @param toItem the item a response carries, if any
     */
    WatchPublisher(Consumer<ClientResponseObserver<Q, R>> start, Function<R, Optional<T>> toItem) {
        this.start = start;
        this.toItem = toItem;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super T> subscriber) {
        Objects.requireNonNull(subscriber);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<ClientCallStreamObserver<Q>> call = new AtomicReference<>();
        // gRPC calls these one at a time, as Flow requires of onNext/onError/onComplete.
        start.accept(new ClientResponseObserver<Q, R>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<Q> requestStream) {
                call.set(requestStream);
                requestStream.disableAutoRequestWithInitial(0);
            }

            @Override
            public void onNext(R value) {
                if (done.get()) {
                    return;
                }
                Optional<T> item = toItem.apply(value);
                if (item.isPresent()) {
                    subscriber.onNext(item.get());
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
