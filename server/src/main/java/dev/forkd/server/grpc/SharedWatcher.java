package dev.forkd.server.grpc;

import dev.forkd.server.memory.ReplySize;
import dev.forkd.server.shared.SharedStore;
import dev.forkd.server.watch.WatchAdmission;
import dev.forkd.v1.WatchSharedResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One SharedService.Watch call, like {@link OutputWatcher}: a change or the stream becoming ready
 * schedules one drain on the executor, which sends the latest state if the client can take it.
 * No thread waits; a slow client gets the newest state, never a backlog.
 */
final class SharedWatcher {

    /**
     * What a watch of a client that stopped reading can hold in the transport: gRPC's default
     * threshold (32 KiB) plus the message that crossed it, which carries at most one value.
     */
    static final long BUFFER_BYTES = (32 << 10) + ReplySize.MAX_ITEM_BYTES;

    private final ServerCallStreamObserver<WatchSharedResponse> out;
    private final WatchAdmission.Ticket ticket;
    private final SerialDrain drains;
    private final AtomicBoolean finished = new AtomicBoolean();
    private SharedStore.Watch watch;
    private Optional<String> key = Optional.empty();
    private SharedStore.WatchState sent;

    SharedWatcher(ServerCallStreamObserver<WatchSharedResponse> out, Executor executor, WatchAdmission.Ticket ticket) {
        this.out = out;
        this.ticket = ticket;
        this.drains = new SerialDrain(executor, this::drain, e -> {
            if (finished.compareAndSet(false, true)) {
                watch.close();
                ticket.close();
                out.onError(ErrorMapper.toStatus(e));
            }
        });
    }

    void start(SharedStore store, String name, Optional<String> key) {
        this.key = key;
        out.setOnCancelHandler(this::finish);
        watch = store.watch(name, key, drains::signal);
        if (finished.get()) {
            watch.close(); // cancelled while we registered
            return;
        }
        out.setOnReadyHandler(drains::signal);
        drains.signal();
    }



    private void drain() {
        if (finished.get() || !out.isReady()) {
            return; // onReady will call again
        }
        SharedStore.WatchState now = watch.snapshot();
        if (sent == null || changed(sent, now)) {
            var b = WatchSharedResponse.newBuilder().setVersion(now.version()).setPresent(now.present())
                    .setSize(now.size()).setDeleted(now.deleted());
            now.value().ifPresent(v -> b.setValue(SharedServiceAdapter.proto(v)));
            out.onNext(b.build());
            sent = now;
        }
        if (now.deleted() && finish()) {
            out.onCompleted();
        }
    }

    /** A watched dict key changes only when its own value does; anything else by version. */
    private boolean changed(SharedStore.WatchState a, SharedStore.WatchState b) {
        if (b.deleted()) {
            return !a.deleted();
        }
        if (key.isPresent()) {
            return a.present() != b.present() || !a.value().equals(b.value());
        }
        return a.version() != b.version();
    }

    private boolean finish() {
        if (finished.compareAndSet(false, true)) {
            if (watch != null) {
                watch.close();
            }
            ticket.close();
            return true;
        }
        return false;
    }
}
