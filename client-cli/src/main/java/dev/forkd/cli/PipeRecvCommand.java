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

@Command(name = "recv", mixinStandardHelpOptions = true, description = {"Receive messages at an end and print them, one per line (or NUL-terminated with --null).", "Without --follow: the next message (exits 124 on --timeout, 1 at end-of-file).", "With --follow: every message until the other end is closed (end-of-file), then exit 0."})
final class PipeRecvCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "END", description = "The receiving end, e.g. pipe-1.0.")
    String end;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Give up if nothing comes this long; default: wait.")
    Duration timeout;

    @Option(names = {"-n", "--max-messages"}, paramLabel = "N", description = "Up to N messages at once (default 1).")
    int max = 1;

    @Option(names = {"-f", "--follow"}, description = "Print messages as they come, until end-of-file.")
    boolean follow;

    @Option(names = {"-0", "--null"}, description = "End each message with NUL, not newline.")
    boolean nul;

    @Override
    int work(ForkdClient client, Invocation inv) {
        if (follow) {
            var it = client.pipes().recvStream(RecvStreamRequest.newBuilder().setName(end).build());
            while (it.hasNext()) {
                RecvStreamResponse r = it.next();
                r.getMessagesList().forEach(m -> Items.write(inv.out(), m.toByteArray(), nul));
                inv.out().flush();
            }
            return ExitCodes.OK;
        }
        RecvRequest.Builder r = RecvRequest.newBuilder().setName(end).setMaxMessages(max);
        Optional<Duration> t = Optional.ofNullable(timeout);
        t.ifPresent(d -> r.setTimeout(proto(d)));
        RecvResponse resp = client.pipes().withDeadlineAfter(deadlineMillis(t), TimeUnit.MILLISECONDS).recv(r.build());
        if (resp.getTimedOut()) {
            inv.err().println("forkd: pipe end " + end + ": nothing within " + timeout);
            return ExitCodes.TIMED_OUT;
        }
        if (resp.getEof()) {
            inv.err().println("forkd: pipe end " + end + ": end of file (the other end is closed)");
            return ExitCodes.ERROR;
        }
        resp.getMessagesList().forEach(m -> Items.write(inv.out(), m.toByteArray(), nul));
        return ExitCodes.OK;
    }
}
