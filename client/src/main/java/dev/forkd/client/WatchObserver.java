package dev.forkd.client;

import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A Watch read one message at a time: {@code each} sees every event and answers whether to go on;
 * false cancels the stream. For the short waits of {@link ForkdProcess#pid()}.
 */
final class WatchObserver implements ClientResponseObserver<WatchProcessRequest, WatchProcessResponse> {

    private final Predicate<ProcessCalls.Event> each;
    private final Consumer<Throwable> failed;
    private final Runnable ended;
    private ClientCallStreamObserver<WatchProcessRequest> call;

    WatchObserver(Predicate<ProcessCalls.Event> each, Consumer<Throwable> failed, Runnable ended) {
        this.each = each;
        this.failed = failed;
        this.ended = ended;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchProcessRequest> requestStream) {
        call = requestStream;
    }

    @Override
    public void onNext(WatchProcessResponse value) {
        if (!each.test(ProcessCalls.event(value))) {
            call.cancel("seen what was waited for", null);
        }
    }

    @Override
    public void onError(Throwable t) {
        if (t instanceof io.grpc.StatusRuntimeException sre) {
            if (sre.getStatus().getCode() == io.grpc.Status.Code.CANCELLED) {
                return; // our own cancel
            }
            failed.accept(ForkdException.from(sre));
            return;
        }
        failed.accept(t);
    }

    @Override
    public void onCompleted() {
        ended.run();
    }
}
