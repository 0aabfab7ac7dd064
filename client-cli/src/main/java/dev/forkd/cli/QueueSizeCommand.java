package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.*;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "size", mixinStandardHelpOptions = true, description = "Print how many items wait in a queue (qsize).")
final class QueueSizeCommand extends ResourceCommand {

    @Parameters(paramLabel = "QUEUE", description = "Queue id or name.")
    String queue;

    @Override
    int work(ForkdClient client, Invocation inv) {
        SizeResponse r = client.queues().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .size(SizeRequest.newBuilder().setName(queue).build());
        if (options.json()) {
            Json.print(inv.out(), r);
        } else {
            inv.out().println(r.getSize());
        }
        return ExitCodes.OK;
    }
}
