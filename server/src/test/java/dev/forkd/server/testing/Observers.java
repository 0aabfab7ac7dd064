package dev.forkd.server.testing;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/** Async stubs' answers as futures, for tests that wait on them with a deadline. */
public final class Observers {

    private Observers() {}

    /** Completes {@code f} with the first answer, or with the call's error. */
    public static <T> StreamObserver<T> observer(CompletableFuture<T> f) {
        return observer(f, Function.identity());
    }

    /** Completes {@code f} with {@code map} of the first answer, or with the call's error. */
    public static <T, R> StreamObserver<T> observer(CompletableFuture<R> f, Function<T, R> map) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                f.complete(map.apply(value));
            }

            @Override
            public void onError(Throwable t) {
                f.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        };
    }
}
