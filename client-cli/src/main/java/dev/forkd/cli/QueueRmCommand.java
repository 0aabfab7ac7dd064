package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.*;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete queues and their items.")
final class QueueRmCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "QUEUE", arity = "1..*", description = "Queue ids or names.")
    java.util.List<String> queues;

    @Override
    int work(ForkdClient client, Invocation inv) {
        for (String q : queues) {
            DeleteQueueResponse r = client.queues().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .delete(DeleteQueueRequest.newBuilder().setName(q).build());
            inv.out().println(r.getId());
        }
        return ExitCodes.OK;
    }
}
