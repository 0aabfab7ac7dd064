package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.*;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "ls", mixinStandardHelpOptions = true, description = "List queues.")
final class QueueLsCommand extends ResourceCommand {

    @Override
    int work(ForkdClient client, Invocation inv) {
        String token = "";
        if (!options.json()) {
            inv.out().printf("%-8s %-20s %9s %9s %9s %10s %6s %9s %9s %7s%n", "ID", "NAME", "SIZE", "MAXSIZE",
                    "IN-FLIGHT", "UNFINISHED", "CLOSED", "PRODUCERS", "CONSUMERS", "DURABLE");
        }
        do {
            ListQueuesResponse r = client.queues().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .list(ListQueuesRequest.newBuilder().setPageToken(token).build());
            for (QueueInfo q : r.getQueuesList()) {
                if (options.json()) {
                    Json.print(inv.out(), q);
                } else {
                    inv.out().printf("%-8s %-20s %9d %9d %9d %10d %6s %9d %9d %7s%n", q.getId(), q.getName(),
                            q.getSize(), q.getMaxsize(), q.getInFlight(), q.getUnfinished(), q.getClosed() ? "yes" : "no",
                            q.getProducers(), q.getConsumers(), q.getDurable() ? "yes" : "no");
                }
            }
            token = r.getNextPageToken();
        } while (!token.isEmpty());
        return ExitCodes.OK;
    }
}
