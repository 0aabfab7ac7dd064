package dev.forkd.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code forkd queue ...}: server-held queues, like multiprocessing.Queue and JoinableQueue. */
@Command(name = "queue", mixinStandardHelpOptions = true,
        description = {"Server-held queues, like multiprocessing.Queue and JoinableQueue.",
            "Exit codes: 0 ok, 1 refused by the server (not found, closed), 2 usage, 3 no server, 124 timed out (empty or full)."},
        subcommands = {QueueCreateCommand.class, QueuePutCommand.class, QueueGetCommand.class,
            QueueSizeCommand.class, QueueJoinCommand.class, QueueTaskDoneCommand.class, QueueCloseCommand.class,
            QueueRmCommand.class, QueueLsCommand.class})
final class QueueCommand implements Callable<Integer> {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(((Main) spec.root().userObject()).invocation().err());
        return ExitCodes.USAGE;
    }
}
