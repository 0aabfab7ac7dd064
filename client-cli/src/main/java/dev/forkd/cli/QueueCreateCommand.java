package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.CreateQueueResponse;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "create", mixinStandardHelpOptions = true, description = "Make a queue and print its id.")
final class QueueCreateCommand extends ResourceCommand {

    @Parameters(paramLabel = "NAME", arity = "0..1", description = "Optional unique name.")
    String name;

    @Option(names = "--maxsize", paramLabel = "N", description = "Most items held at once (default 0: the server's bound).")
    long maxsize;

    @Option(names = "--if-not-exists", description = "Use the queue of that name if there is one.")
    boolean ifNotExists;

    @Option(names = "--durable", description = "Keep the queue and its items in the server's state store, so they"
            + " survive a restart or crash of the server (puts are answered once stored).")
    boolean durable;

    @Override
    int work(ForkdClient client, Invocation inv) {
        CreateQueueResponse r = client.queues().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .create(CreateQueueRequest.newBuilder().setName(name == null ? "" : name).setMaxsize(maxsize)
                        .setIfNotExists(ifNotExists).setDurable(durable).build());
        if (options.json()) {
            Json.print(inv.out(), r);
        } else {
            inv.out().println(r.getQueue().getId());
        }
        return ExitCodes.OK;
    }
}
