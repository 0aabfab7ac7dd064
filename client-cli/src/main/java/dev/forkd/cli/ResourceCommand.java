package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Optional;

/**
 * A {@code forkd queue} or {@code forkd pipe} command. Their exit codes follow the queue issue:
 * 0 ok, 1 the server said no, 2 usage, 3 no server, 124 timed out (empty or full).
 */
abstract class ResourceCommand extends ClientCommand {

    abstract int work(ForkdClient client, Invocation inv) throws Exception;

    @Override
    final int run(ForkdClient client, Invocation inv) throws Exception {
        try {
            return work(client, inv);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                throw e;
            }
            throw new CliFailure(ExitCodes.describe(e.getStatus()), ExitCodes.REFUSED, e);
        }
    }

    static com.google.protobuf.Duration proto(Duration d) {
        return com.google.protobuf.util.Durations.fromNanos(d.toNanos());
    }

    /** The client's own upper bound for a call the server answers within {@code timeout}. */
    static long deadlineMillis(Optional<Duration> timeout) {
        return timeout.map(t -> t.plus(CALL_DEADLINE).toMillis()).orElse(Long.MAX_VALUE / 4);
    }
}
