package dev.forkd.server.it;

import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapResponse;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.TaskResult;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A Map call as a client would make it: items sent only while the stream is ready (so the server's
 * window holds them back), results collected as they come.
 */
final class MapCall implements ClientResponseObserver<MapRequest, MapResponse> {

    final List<TaskResult> results = new ArrayList<>();
    final List<MapResponse> messages = new ArrayList<>();
    final CompletableFuture<List<TaskResult>> done = new CompletableFuture<>();
    private final MapStart start;
    private final Iterator<TaskInput> items;
    private final int perMessage;
    private final Consumer<TaskResult> onResult;
    private ClientCallStreamObserver<MapRequest> requests;
    private boolean started;
    private boolean closed;

    private MapCall(MapStart start, Iterator<TaskInput> items, int perMessage, Consumer<TaskResult> onResult) {
        this.start = start;
        this.items = items;
        this.perMessage = perMessage;
        this.onResult = onResult;
    }

    static MapCall start(PoolServiceGrpc.PoolServiceStub stub, MapStart start, Iterator<TaskInput> items,
            int perMessage, Consumer<TaskResult> onResult) {
        MapCall call = new MapCall(start, items, perMessage, onResult);
        stub.map(call);
        return call;
    }

    static TaskInput item(Object o) {
        return TaskInput.newBuilder().setItem(com.google.protobuf.ByteString.copyFromUtf8(o.toString())).build();
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<MapRequest> requestStream) {
        this.requests = requestStream;
        requestStream.setOnReadyHandler(this::send);
    }

    private synchronized void send() {
        if (!started) {
            requests.onNext(MapRequest.newBuilder().setStart(start).build());
            started = true;
        }
        while (requests.isReady() && !closed) {
            MapRequest.Builder b = MapRequest.newBuilder();
            while (b.getItemsCount() < perMessage && items.hasNext()) {
                b.addItems(items.next());
            }
            if (b.getItemsCount() > 0) {
                requests.onNext(b.build());
            }
            if (!items.hasNext()) {
                requests.onCompleted();
                closed = true;
            }
        }
    }

    @Override
    public void onNext(MapResponse value) {
        synchronized (results) {
            messages.add(value);
            results.addAll(value.getResultsList());
        }
        value.getResultsList().forEach(onResult);
    }

    @Override
    public void onError(Throwable t) {
        done.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
        synchronized (results) {
            done.complete(List.copyOf(results));
        }
    }

    int count() {
        synchronized (results) {
            return results.size();
        }
    }
}
