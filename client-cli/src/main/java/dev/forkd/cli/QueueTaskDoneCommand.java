package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.*;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "task-done", mixinStandardHelpOptions = true, description = "Mark items done (JoinableQueue.task_done); prints how many remain unfinished.")
final class QueueTaskDoneCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "QUEUE", description = "Queue id or name.")
    String queue;

    @Option(names = {"-n", "--count"}, paramLabel = "N", description = "How many are done (default 1).")
    int count = 1;

    @Override
    int work(ForkdClient client, Invocation inv) {
        if (count < 1) {
            throw new CliFailure("--count must be at least 1", ExitCodes.USAGE);
        }
        TaskDoneResponse r = client.queues().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .taskDone(TaskDoneRequest.newBuilder().setName(queue).setCount(count).build());
        inv.out().println(r.getUnfinished());
        return ExitCodes.OK;
    }
}
