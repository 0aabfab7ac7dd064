package dev.forkd.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.io.OutputStreamWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code forkd} command: {@code serve} runs the server; every other subcommand is a client. */
@Command(name = "forkd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Python's multiprocessing model, served over gRPC.",
        subcommands = {
            ServeCommand.class, RunCommand.class, SpawnCommand.class, PsCommand.class, GetCommand.class,
            WaitCommand.class, LogsCommand.class, KillCommand.class, RmCommand.class, StatusCommand.class,
            LockCommand.class, WithLockCommand.class, SemCommand.class, EventCommand.class, BarrierCommand.class,
            ValueCommand.class, DictCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class Main implements Callable<Integer> {

    private final Invocation invocation;

    public Main(Invocation invocation) {
        this.invocation = invocation;
    }

    Invocation invocation() {
        return invocation;
    }

    /** {@code forkd} alone: say what there is, as a usage error. */
    @Override
    public Integer call() {
        CommandLine.usage(this, invocation.err());
        return ExitCodes.USAGE;
    }

    /** The command line for one invocation, with forkd's error handling and streams. */
    public static CommandLine commandLine(Invocation invocation) {
        ExitCodes exitCodes = new ExitCodes();
        CommandLine cl = new CommandLine(new Main(invocation))
                .setOut(new PrintWriter(new OutputStreamWriter(invocation.out(), StandardCharsets.UTF_8), true))
                .setErr(new PrintWriter(new OutputStreamWriter(invocation.err(), StandardCharsets.UTF_8), true))
                .setExitCodeExceptionMapper(exitCodes)
                .setExecutionExceptionHandler(exitCodes)
                .setParameterExceptionHandler(exitCodes);
        // Everything after the command's first word is the command's: `forkd run sh -c 'exit 3'` works without --.
        cl.getSubcommands().get("run").setStopAtPositional(true);
        cl.getSubcommands().get("spawn").setStopAtPositional(true);
        cl.getSubcommands().get("with-lock").setStopAtPositional(true);
        return cl;
    }

    /** Runs one command and returns its exit code; output is flushed. */
    public static int execute(Invocation invocation, String... args) {
        try {
            return commandLine(invocation).execute(args);
        } finally {
            invocation.out().flush();
            invocation.err().flush();
        }
    }

    public static void main(String[] args) {
        // Channels are closed without waiting for their threads (all daemons): exit as soon as the answer is out.
        System.exit(execute(Invocation.ofProcess(), args));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"forkd " + (v == null ? "(development build)" : v)};
        }
    }
}
