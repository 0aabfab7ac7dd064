package dev.forkd.server.it;

import dev.forkd.v1.Event;
import dev.forkd.v1.EventServiceGrpc;
import dev.forkd.v1.WatchEventsRequest;
import dev.forkd.v1.WatchEventsResponse;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** One Watch call whose messages land in a queue; open once the server says it is watching. */
final class EventWatcher implements AutoCloseable {

    static final long WAIT_SECONDS = 30;
    final BlockingQueue<WatchEventsResponse> got = new LinkedBlockingQueue<>();
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    final Context.CancellableContext context = Context.current().withCancellation();

    EventWatcher(EventServiceGrpc.EventServiceStub stub, WatchEventsRequest request) throws InterruptedException {
        context.run(() -> stub.watch(request, new StreamObserver<>() {
            @Override
            public void onNext(WatchEventsResponse r) {
                got.add(r);
            }

            @Override
            public void onError(Throwable t) {
                ended.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                ended.complete(Status.OK);
            }
        }));
        WatchEventsResponse first = got.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (first == null || !first.hasStarted()) {
            throw new AssertionError("no started message but " + first + " / " + ended.getNow(null));
        }
    }

    /** The next event that {@code wanted} accepts; the ones before it are returned in {@code skipped}. */
    Event next(Predicate<Event> wanted, List<Event> skipped) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (true) {
            WatchEventsResponse r = got.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (r == null) {
                throw new AssertionError("no such event within " + WAIT_SECONDS + "s; saw " + skipped);
            }
            if (r.hasEvent() && wanted.test(r.getEvent())) {
                return r.getEvent();
            }
            if (r.hasEvent()) {
                skipped.add(r.getEvent());
            }
        }
    }

    Event next(Predicate<Event> wanted) throws InterruptedException {
        return next(wanted, new ArrayList<>());
    }

    @Override
    public void close() {
        context.cancel(null);
    }
}
