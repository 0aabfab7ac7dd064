package dev.forkd.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code forkd pipe ...}: server-held pipes, like multiprocessing.Pipe. */
@Command(name = "pipe", mixinStandardHelpOptions = true,
        description = {"Server-held pipes, like multiprocessing.Pipe: two ends, END names like pipe-1.0 and pipe-1.1.",
            "Exit codes: 0 ok, 1 refused by the server (closed, broken pipe) or end-of-file, 2 usage, 3 no server, 124 timed out."},
        subcommands = {PipeCreateCommand.class, PipeSendCommand.class, PipeRecvCommand.class, PipePollCommand.class,
            PipeCloseCommand.class, PipeRmCommand.class})
final class PipeCommand implements Callable<Integer> {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(((Main) spec.root().userObject()).invocation().err());
        return ExitCodes.USAGE;
    }
}
