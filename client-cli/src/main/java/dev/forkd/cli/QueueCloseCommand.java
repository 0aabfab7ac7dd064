package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.*;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "close", mixinStandardHelpOptions = true, description = "Close a queue: no more puts; takers drain what is left, then followers end.")
final class QueueCloseCommand extends ResourceCommand {

    @Parameters(paramLabel = "QUEUE", description = "Queue id or name.")
    String queue;

    @Override
    int work(ForkdClient client, Invocation inv) {
        CloseQueueResponse r = client.queues().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .close(CloseQueueRequest.newBuilder().setName(queue).build());
        if (options.json()) {
            Json.print(inv.out(), r);
        }
        return ExitCodes.OK;
    }
}
