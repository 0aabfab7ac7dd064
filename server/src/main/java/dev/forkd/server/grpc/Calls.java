package dev.forkd.server.grpc;

import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/** Runs a unary call's body and answers with its result or its mapped error. */
final class Calls {

    private Calls() {}

    static <T> void unary(StreamObserver<T> out, Supplier<T> body) {
        T result;
        try {
            result = body.get();
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }
}
