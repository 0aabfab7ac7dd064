package dev.forkd.server.grpc;

import dev.forkd.server.auth.Caller;
import dev.forkd.server.events.Delivery;
import dev.forkd.server.events.EventFilter;
import dev.forkd.server.events.EventHub;
import dev.forkd.server.events.EventRights;
import dev.forkd.v1.EventServiceGrpc;
import dev.forkd.v1.WatchEventsRequest;
import dev.forkd.v1.WatchEventsResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * EventService: decode the filter, watch the hub as the caller may see it, and drain the watcher's
 * buffer to the stream while the client can take it. No thread waits: an event or the stream
 * becoming ready schedules one drain on {@code executor}.
 */
public final class EventServiceAdapter extends EventServiceGrpc.EventServiceImplBase {

    private final EventHub hub;
    private final Executor executor;

    public EventServiceAdapter(EventHub hub, Executor executor) {
        this.hub = hub;
        this.executor = executor;
    }

    @Override
    public void watch(WatchEventsRequest request, StreamObserver<WatchEventsResponse> responses) {
        var out = (ServerCallStreamObserver<WatchEventsResponse>) responses;
        EventFilter filter;
        try {
            filter = EventMessages.filter(request);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
            return;
        }
        Caller caller = SessionInterceptor.caller();
        new Stream(out).start(filter, caller);
    }

    /** One Watch call. */
    private final class Stream {
        private final ServerCallStreamObserver<WatchEventsResponse> out;
        private final AtomicBoolean finished = new AtomicBoolean();
        private final SerialDrain drains;
        private volatile EventHub.Watch watch;

        Stream(ServerCallStreamObserver<WatchEventsResponse> out) {
            this.out = out;
            this.drains = new SerialDrain(executor, this::drain, e -> {
                if (finish()) {
                    out.onError(ErrorMapper.toStatus(e));
                }
            });
        }

        void start(EventFilter filter, Caller caller) {
            out.setOnCancelHandler(this::finish);
            try {
                watch = hub.watch(filter, event -> EventRights.asSeenBy(caller, event), drains::signal);
            } catch (RuntimeException e) {
                finished.set(true);
                out.onError(ErrorMapper.toStatus(e));
                return;
            }
            if (finished.get()) {
                watch.close(); // cancelled while we registered
                return;
            }
            out.setOnReadyHandler(drains::signal);
            drains.signal();
        }

        private void drain() {
            EventHub.Watch w = watch;
            if (w == null) {
                return;
            }
            while (!finished.get() && out.isReady()) {
                Optional<Delivery> next = w.poll();
                if (next.isEmpty()) {
                    return;
                }
                out.onNext(EventMessages.proto(next.get()));
            }
        }

        private boolean finish() {
            if (finished.compareAndSet(false, true)) {
                EventHub.Watch w = watch;
                if (w != null) {
                    w.close();
                }
                return true;
            }
            return false;
        }
    }
}
