package dev.forkd.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.io.OutputStreamWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code forkd} command: {@code serve} runs the server; every other subcommand is a client. */
@Command(name = "forkd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Python's multiprocessing model, served over gRPC.")
public final class Main implements Callable<Integer> {

    /**
     * The subcommands, in the order help lists them. They are registered lazily (see
     * {@link #newSubcommand}): picocli builds a command's model by reflection, and a short command
     * should not pay for all of them.
     */
    private static final List<String> SUBCOMMANDS =
            List.of("serve", "run", "spawn", "ps", "get", "wait", "logs", "kill", "rm", "status", "map", "pool", "queue", "pipe",
                    "lock", "with-lock", "with-sem", "sem", "session", "event", "barrier", "value", "array", "dict", "events", "reload", "start", "stop", "restart", "shutdown", "help");

    /** picocli's names for the version option ({@code mixinStandardHelpOptions}). */
    private static final List<String> VERSION_OPTIONS = List.of("-V", "--version");

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

    /** The command line for one invocation with every subcommand, forkd's error handling and streams. */
    public static CommandLine commandLine(Invocation invocation) {
        return commandLine(invocation, new String[0]);
    }

    /**
     * The command line for {@code args}: only the subcommand they name is registered (all of them
     * when they name none or an unknown one, so help and "did you mean" see every command; none for
     * {@code forkd --version}, which needs no command's model).
     */
    static CommandLine commandLine(Invocation invocation, String[] args) {
        ExitCodes exitCodes = new ExitCodes();
        CommandLine cl = new CommandLine(new Main(invocation));
        Optional<String> named = Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst()
                .filter(first -> !first.equals("help"));
        boolean known = named.isPresent() && SUBCOMMANDS.contains(named.get());
        boolean versionOnly = args.length == 1 && VERSION_OPTIONS.contains(args[0]);
        for (String name : SUBCOMMANDS) {
            if (!versionOnly && (!known || name.equals(named.get()))) {
                cl.addSubcommand(name, newSubcommand(name));
            }
        }
        cl
                .setOut(new PrintWriter(new OutputStreamWriter(invocation.out(), StandardCharsets.UTF_8), true))
                .setErr(new PrintWriter(new OutputStreamWriter(invocation.err(), StandardCharsets.UTF_8), true))
                .setExitCodeExceptionMapper(exitCodes)
                .setExecutionExceptionHandler(exitCodes)
                .setParameterExceptionHandler(exitCodes);
        // Everything after the command's first word is the command's: `forkd run sh -c 'exit 3'` works without --.
        for (String name : List.of("run", "spawn", "with-lock", "with-sem", "map")) {
            Optional.ofNullable(cl.getSubcommands().get(name)).ifPresent(sub -> sub.setStopAtPositional(true));
        }
        Optional.ofNullable(cl.getSubcommands().get("pool"))
                .map(pool -> pool.getSubcommands().get("create"))
                .ifPresent(create -> create.setStopAtPositional(true));
        HelpText.joinSentences(cl);
        return cl;
    }

    // A switch, not a table of constructor references: the JDK's AOT cache cannot hold a method
    // reference to picocli's HelpCommand (an old class file) and the JVM fails writing the cache.
    private static Object newSubcommand(String name) {
        return switch (name) {
            case "serve" -> new ServeCommand();
            case "run" -> new RunCommand();
            case "spawn" -> new SpawnCommand();
            case "ps" -> new PsCommand();
            case "get" -> new GetCommand();
            case "wait" -> new WaitCommand();
            case "logs" -> new LogsCommand();
            case "kill" -> new KillCommand();
            case "rm" -> new RmCommand();
            case "status" -> new StatusCommand();
            case "map" -> new MapCommand();
            case "pool" -> new PoolCommand();
            case "queue" -> new QueueCommand();
            case "pipe" -> new PipeCommand();
            case "lock" -> new LockCommand();
            case "with-lock" -> new WithLockCommand();
            case "with-sem" -> new WithSemCommand();
            case "session" -> new SessionCommand();
            case "sem" -> new SemCommand();
            case "event" -> new EventCommand();
            case "barrier" -> new BarrierCommand();
            case "value" -> new ValueCommand();
            case "array" -> new ArrayCommand();
            case "dict" -> new DictCommand();
            case "events" -> new EventsCommand();
            case "reload" -> new ReloadCommand();
            case "start" -> new ProgramControlCommand.Start();
            case "stop" -> new ProgramControlCommand.Stop();
            case "restart" -> new RestartCommand();
            case "shutdown" -> new ShutdownCommand();
            case "help" -> new CommandLine.HelpCommand();
            default -> throw new IllegalArgumentException("no subcommand " + name);
        };
    }

    /** Runs one command and returns its exit code; output is flushed. */
    public static int execute(Invocation invocation, String... args) {
        try {
            Optional<Integer> plain = PlainPs.run(invocation, args);
            if (plain.isPresent()) {
                return plain.get();
            }
            List<String> leading = GlobalOptions.leading(args);
            String[] rest = Arrays.copyOfRange(args, leading.size(), args.length);
            CommandLine cl = commandLine(invocation, rest);
            return cl.execute(GlobalOptions.hoist(cl, leading, rest));
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
