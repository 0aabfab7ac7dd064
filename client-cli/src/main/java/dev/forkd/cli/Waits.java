package dev.forkd.cli;

import com.google.protobuf.util.Durations;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.stub.AbstractStub;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Blocking calls: the server answers at the timeout; the deadline only guards against one that does not. */
final class Waits {

    private Waits() {}

    static <S extends AbstractStub<S>> S bounded(S stub, Duration timeout) {
        return timeout == null ? stub
                : stub.withDeadlineAfter(timeout.plus(ClientCommand.CALL_DEADLINE).toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Acquire (a lock or a permit), waiting at most {@code timeout} when one is given. */
    static AcquireResponse acquire(SyncServiceGrpc.SyncServiceBlockingStub sync, AcquireRequest.Builder req,
            Duration timeout) {
        if (timeout != null) {
            req.setTimeout(proto(timeout));
        }
        return bounded(sync, timeout).acquire(req.build());
    }

    static com.google.protobuf.Duration proto(Duration d) {
        return Durations.fromNanos(d.toNanos());
    }
}
