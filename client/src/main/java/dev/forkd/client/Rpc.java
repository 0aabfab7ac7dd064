package dev.forkd.client;

import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * The one place the library reaches the generated stubs: a channel that carries the session header,
 * and the rules for deadlines and errors every call shares.
 *
 * <p>A call that should answer at once gets {@link #callTimeout}; a call that blocks on purpose gets its
 * own wait plus that margin, or no deadline when it waits without limit.
 */
final class Rpc {

    private final Channel channel;
    private final Duration callTimeout;

    Rpc(Channel channel, String sessionCredential, Duration callTimeout) {
        this.channel = ClientInterceptors.intercept(channel, ForkdClient.sessionHeader(sessionCredential));
        this.callTimeout = callTimeout;
    }

    Channel channel() {
        return channel;
    }

    ProcessServiceGrpc.ProcessServiceBlockingStub processes() {
        return ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    ProcessServiceGrpc.ProcessServiceFutureStub processesWaiting(Duration wait) {
        return withWait(ProcessServiceGrpc.newFutureStub(channel), wait);
    }

    ProcessServiceGrpc.ProcessServiceStub processesAsync() {
        return ProcessServiceGrpc.newStub(channel);
    }

    QueueServiceGrpc.QueueServiceBlockingStub queues() {
        return QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    QueueServiceGrpc.QueueServiceFutureStub queuesWaiting(Duration wait) {
        return withWait(QueueServiceGrpc.newFutureStub(channel), wait);
    }

    QueueServiceGrpc.QueueServiceStub queuesAsync() {
        return QueueServiceGrpc.newStub(channel);
    }

    SyncServiceGrpc.SyncServiceBlockingStub sync() {
        return SyncServiceGrpc.newBlockingStub(channel).withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    SyncServiceGrpc.SyncServiceFutureStub syncWaiting(Duration wait) {
        return withWait(SyncServiceGrpc.newFutureStub(channel), wait);
    }

    SharedServiceGrpc.SharedServiceBlockingStub shared() {
        return SharedServiceGrpc.newBlockingStub(channel).withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    PoolServiceGrpc.PoolServiceBlockingStub pools() {
        return PoolServiceGrpc.newBlockingStub(channel).withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    PoolServiceGrpc.PoolServiceFutureStub poolsWaiting(Duration wait) {
        return withWait(PoolServiceGrpc.newFutureStub(channel), wait);
    }

    PoolServiceGrpc.PoolServiceFutureStub poolsFuture() {
        return PoolServiceGrpc.newFutureStub(channel).withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    dev.forkd.v1.EventServiceGrpc.EventServiceStub eventsAsync() {
        return dev.forkd.v1.EventServiceGrpc.newStub(channel);
    }

    PoolServiceGrpc.PoolServiceStub poolsAsync() {
        return PoolServiceGrpc.newStub(channel);
    }

    /** No deadline for a wait without limit ({@code null}); else the wait plus the call margin. */
    private <S extends io.grpc.stub.AbstractStub<S>> S withWait(S stub, Duration wait) {
        return wait == null ? stub : stub.withDeadlineAfter(wait.plus(callTimeout).toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A waiting call's answer, mapped to the library's type; a cancel of the result cancels the call. */
    static <A, T> ListenableFuture<T> map(ListenableFuture<A> call, java.util.function.Function<A, T> f) {
        return com.google.common.util.concurrent.Futures.transform(call, f::apply,
                com.google.common.util.concurrent.MoreExecutors.directExecutor());
    }

    /** Runs a call that answers at once, turning a refusal into a {@link ForkdException}. */
    static <T> T call(Supplier<T> call) {
        try {
            return call.get();
        } catch (StatusRuntimeException e) {
            throw ForkdException.from(e);
        }
    }

    /**
     * Waits for a call that may block, for the methods the JDK lets throw {@link InterruptedException}:
     * an interrupt cancels the call and surfaces as that.
     */
    static <T> T interruptibly(ListenableFuture<T> call) throws InterruptedException {
        try {
            return call.get();
        } catch (InterruptedException e) {
            call.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            throw failure(e);
        }
    }

    /**
     * Waits for a call that may block, for methods that may not throw {@link InterruptedException}
     * ({@code Lock.lock()}): an interrupt is remembered and the wait goes on, as the JDK's own do;
     * the call is not cancelled, so a grant is never lost.
     */
    static <T> T uninterruptibly(ListenableFuture<T> call) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return call.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw failure(e);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static RuntimeException failure(ExecutionException e) {
        if (e.getCause() instanceof StatusRuntimeException sre) {
            return ForkdException.from(sre);
        }
        if (e.getCause() instanceof RuntimeException re) {
            return re;
        }
        return new IllegalStateException(e.getCause());
    }
}
