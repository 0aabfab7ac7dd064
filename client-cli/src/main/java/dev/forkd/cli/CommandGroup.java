package dev.forkd.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that only groups subcommands ({@code forkd lock acquire}): alone it is a usage error. */
abstract class CommandGroup implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Invocation inv = ((Main) spec.root().userObject()).invocation();
        CommandLine.usage(spec.commandLine(), inv.err());
        return ExitCodes.USAGE;
    }
}
