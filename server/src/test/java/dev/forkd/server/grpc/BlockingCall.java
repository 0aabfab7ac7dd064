package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A unary call made on an async stub under its own cancellable context, for in-process tests on a
 * direct executor: the server has handled the request when {@link #start} returns, and
 * {@link #cancel} reaches the server's cancel handler on the calling thread, so the next call sees
 * its effect without any sleep.
 */
final class BlockingCall<T> implements StreamObserver<T> {

    private final Context.CancellableContext context = Context.current().withCancellation();
    private final CompletableFuture<T> answer = new CompletableFuture<>();

    private BlockingCall() {}

    static <T> BlockingCall<T> start(Consumer<StreamObserver<T>> call) {
        BlockingCall<T> c = new BlockingCall<>();
        c.context.run(() -> call.accept(c));
        return c;
    }

    /** Still waiting: neither answered nor failed. */
    BlockingCall<T> assertWaiting() {
        assertFalse(answer.isDone(), () -> "the call ended: " + answer);
        return this;
    }

    /** The caller goes away. */
    void cancel() {
        context.cancel(null);
    }

    /** The answer (or the call's failure, thrown). */
    T answer() throws Exception {
        try {
            return answer.get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    @Override
    public void onNext(T value) {
        answer.complete(value);
    }

    @Override
    public void onError(Throwable t) {
        answer.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {}
}
