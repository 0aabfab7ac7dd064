package dev.forkd.cli;

import com.google.protobuf.ByteString;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.*;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "poll", mixinStandardHelpOptions = true, description = {"Whether a message (or end-of-file) is waiting at an end, like Connection.poll: prints ready, eof or empty; exits 124 if not ready."})
final class PipePollCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "END", description = "The receiving end.")
    String end;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Wait this long for something to arrive (default: only look).")
    Duration timeout;

    @Override
    int work(ForkdClient client, Invocation inv) {
        PollRequest.Builder r = PollRequest.newBuilder().setName(end);
        Optional<Duration> t = Optional.ofNullable(timeout);
        t.ifPresent(d -> r.setTimeout(proto(d)));
        PollResponse resp = client.pipes().withDeadlineAfter(deadlineMillis(t.or(() -> Optional.of(Duration.ZERO))),
                TimeUnit.MILLISECONDS).poll(r.build());
        inv.out().println(resp.getEof() ? "eof" : resp.getReady() ? "ready" : "empty");
        return resp.getReady() ? ExitCodes.OK : ExitCodes.TIMED_OUT;
    }
}
