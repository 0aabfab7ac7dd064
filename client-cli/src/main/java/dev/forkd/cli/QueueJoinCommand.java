package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.*;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "join", mixinStandardHelpOptions = true, description = "Wait until every item put is marked done (JoinableQueue.join); exits 124 on --timeout.")
final class QueueJoinCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "QUEUE", description = "Queue id or name.")
    String queue;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Give up after this long; default: wait.")
    Duration timeout;

    @Override
    int work(ForkdClient client, Invocation inv) {
        JoinQueueRequest.Builder r = JoinQueueRequest.newBuilder().setName(queue);
        Optional<Duration> t = Optional.ofNullable(timeout);
        t.ifPresent(d -> r.setTimeout(proto(d)));
        JoinQueueResponse resp = client.queues().withDeadlineAfter(deadlineMillis(t), TimeUnit.MILLISECONDS).join(r.build());
        if (resp.getTimedOut()) {
            inv.err().println("forkd: queue " + queue + " still has " + resp.getUnfinished() + " unfinished item(s)");
            return ExitCodes.TIMED_OUT;
        }
        return ExitCodes.OK;
    }
}
