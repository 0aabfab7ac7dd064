package dev.forkd.cli;

import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapResponse;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.TaskResult;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * {@code forkd map}'s one Map call. The feeder thread sends jobs only while the call is ready (so
 * the server's window holds it back); results are printed on the call's thread as they arrive.
 */
final class MapStream implements ClientResponseObserver<MapRequest, MapResponse> {

    /** Items per request message; a message also goes out as soon as stdin has nothing buffered. */
    private static final int ITEMS_PER_MESSAGE = 512;
    private static final int BYTES_PER_MESSAGE = 256 * 1024;

    final CompletableFuture<Void> done = new CompletableFuture<>();
    private final MapStart start;
    private final MapPrinter printer;
    /** Whether jobs carry their number as a last argument (see {@link MapJob#numberedCommand}). */
    private final boolean numbered;
    private final Object readiness = new Object();
    private ClientCallStreamObserver<MapRequest> requests;

    MapStream(MapStart start, MapPrinter printer, boolean numbered) {
        this.start = start;
        this.printer = printer;
        this.numbered = numbered;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<MapRequest> requestStream) {
        this.requests = requestStream;
        requestStream.setOnReadyHandler(() -> {
            synchronized (readiness) {
                readiness.notifyAll();
            }
        });
    }

    /** Runs on the feeder thread: every request-side call is made here. */
    void feed(MapInputs.JobSource jobs) {
        try {
            requests.onNext(MapRequest.newBuilder().setStart(start).build());
            long index = 0;
            MapRequest.Builder msg = MapRequest.newBuilder();
            int bytes = 0;
            for (Optional<MapJob> next = jobs.next(); next.isPresent() && !done.isDone(); next = jobs.next()) {
                MapJob job = next.get();
                printer.sent(index++, job);
                var input = job.input(numbered);
                msg.addItems(input);
                bytes += input.getSerializedSize();
                if (msg.getItemsCount() >= ITEMS_PER_MESSAGE || bytes >= BYTES_PER_MESSAGE || !jobs.buffered()) {
                    if (!send(msg.build())) {
                        return;
                    }
                    msg = MapRequest.newBuilder();
                    bytes = 0;
                }
            }
            if (msg.getItemsCount() > 0 && !send(msg.build())) {
                return;
            }
            printer.inputEnded(index);
            if (!done.isDone()) {
                requests.onCompleted();
            }
        } catch (IOException e) {
            CliFailure f = new CliFailure("cannot read items from stdin: " + e.getMessage(), ExitCodes.ERROR, e);
            requests.cancel("the client failed reading items", f);
            done.completeExceptionally(f);
        } catch (RuntimeException e) {
            requests.cancel("the client failed", e);
            done.completeExceptionally(e);
        }
    }

    private boolean send(MapRequest msg) {
        synchronized (readiness) {
            while (!requests.isReady() && !done.isDone()) {
                try {
                    readiness.wait(1000); // woken by the ready handler; the limit only re-checks done
                } catch (InterruptedException e) {
                    return false;
                }
            }
        }
        if (done.isDone()) {
            return false;
        }
        requests.onNext(msg);
        return true;
    }

    @Override
    public void onNext(MapResponse r) {
        if (r.hasPool()) {
            printer.pool(r.getPool());
        }
        for (TaskResult result : r.getResultsList()) {
            printer.result(result);
        }
        if (r.getHalted()) {
            printer.halted();
        }
        printer.drawProgress();
    }

    @Override
    public void onError(Throwable t) {
        done.completeExceptionally(t);
        synchronized (readiness) {
            readiness.notifyAll();
        }
    }

    @Override
    public void onCompleted() {
        done.complete(null);
        synchronized (readiness) {
            readiness.notifyAll();
        }
    }
}
