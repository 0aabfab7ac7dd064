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

@Command(name = "send", mixinStandardHelpOptions = true, description = {"Send messages from an end: the MSG arguments, else stdin lines (or NUL-terminated with --null).", "Blocks while the other end has no room; exits 124 on --timeout, 1 if the other end is closed."})
final class PipeSendCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(index = "0", paramLabel = "END", description = "The sending end, e.g. pipe-1.1.")
    String end;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "MSG", description = "Messages (default: stdin).")
    java.util.List<String> messages = java.util.List.of();

    @Option(names = {"-0", "--null"}, description = "Messages on stdin end with NUL, not newline.")
    boolean nul;

    @Option(names = "--close", description = "Close this end afterwards (the other end then reads end-of-file).")
    boolean close;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Give up if there is no room this long; default: wait.")
    Duration timeout;

    @Override
    int work(ForkdClient client, Invocation inv) throws Exception {
        SendRequest.Builder r = SendRequest.newBuilder().setName(end);
        Optional<Duration> t = Optional.ofNullable(timeout);
        t.ifPresent(d -> r.setTimeout(proto(d)));
        if (!messages.isEmpty()) {
            messages.forEach(m -> r.addMessages(ByteString.copyFrom(m, StandardCharsets.UTF_8)));
            if (!send(client, inv, r, t)) {
                return ExitCodes.TIMED_OUT;
            }
        } else {
            Items in = new Items(inv.in(), nul);
            for (Optional<byte[]> next = in.next(); next.isPresent(); next = in.next()) {
                r.addMessages(ByteString.copyFrom(next.get()));
                if (r.getMessagesCount() == 1000) {
                    if (!send(client, inv, r, t)) {
                        return ExitCodes.TIMED_OUT;
                    }
                    r.clearMessages();
                }
            }
            if (r.getMessagesCount() > 0 && !send(client, inv, r, t)) {
                return ExitCodes.TIMED_OUT;
            }
        }
        if (close) {
            client.pipes().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .closeEnd(CloseEndRequest.newBuilder().setName(end).build());
        }
        return ExitCodes.OK;
    }

    private boolean send(ForkdClient client, Invocation inv, SendRequest.Builder r, Optional<Duration> t) {
        SendResponse resp = client.pipes().withDeadlineAfter(deadlineMillis(t), TimeUnit.MILLISECONDS).send(r.build());
        if (resp.getTimedOut()) {
            inv.err().println("forkd: pipe end " + end + ": no room within " + timeout);
            return false;
        }
        return true;
    }
}
