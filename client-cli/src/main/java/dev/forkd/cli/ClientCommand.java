package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.client.ServerLauncher;
import dev.forkd.client.ServerTarget;
import dev.forkd.address.ListenAddress;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * What every client subcommand does around its own work: find the server (starting one at the
 * default address if none runs), connect, run, and turn "cannot reach" into one line and exit 3.
 */
abstract class ClientCommand implements Callable<Integer> {

    /**
     * How long an autostarted server may take to listen: while it lives and its log grows, up to two
     * minutes (a start on a machine loaded far past its cores takes longer than 15 s); half a
     * minute without a new line in its log ends the wait sooner.
     */
    static final ServerLauncher.Patience AUTOSTART_PATIENCE =
            new ServerLauncher.Patience(Duration.ofSeconds(30), Duration.ofMinutes(2));
    /** The upper bound of a unary call that should answer at once. */
    static final Duration CALL_DEADLINE = Duration.ofSeconds(30);

    /** Set for a command directly under {@code forkd}; nested ones ({@code forkd queue put}) find the root. */
    @ParentCommand
    Object parent;

    @Mixin
    ClientOptions options;

    @Spec
    CommandSpec spec;

    /** Does the work; the client is closed afterwards. Returns the exit code. */
    abstract int run(ForkdClient client, Invocation inv) throws Exception;

    /**
     * Whether this command can print its result as JSON. One that cannot refuses {@code --json}
     * with a usage error rather than silently printing text a script would then misparse.
     */
    boolean printsJson() {
        return true;
    }

    /**
     * Whether this command's unary calls may skip grpc's channel and go over a plain HTTP/2
     * connection on the command's own thread ({@link ForkdClient#connectForCommand}): for commands
     * that make a few blocking calls and exit, where grpc's start-up is most of the time taken.
     * Streaming calls take grpc's channel either way.
     */
    boolean callsDirectly() {
        return false;
    }

    /** Whether this command may start a server when there is none. */
    boolean autostarts() {
        return true;
    }

    @Override
    public final Integer call() throws Exception {
        Invocation inv = ((Main) spec.root().userObject()).invocation();
        if (options.json() && !printsJson()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--json is not supported by '" + spec.qualifiedName() + "': its output is plain text");
        }
        ServerTarget target;
        try {
            target = ServerTarget.resolve(options.address(), inv.env());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e, null, options.address);
        }
        return callServer(target, inv);
    }

    /**
     * The command once its arguments are parsed: starts a server at the default address if none runs
     * (and this command may), connects, runs, and turns "cannot reach" into one line and exit 3. Also
     * the way {@link PlainPs} runs {@code forkd ps} without picocli.
     */
    final int callServer(ServerTarget target, Invocation inv) throws Exception {
        if (target.isDefault() && !ServerLauncher.accepts(target.paths().socket())) {
            if (!autostarts() || !options.autostart()) {
                throw new CliFailure("no server at " + target.address() + " (start one with 'forkd serve'"
                        + (options.autostart() ? "" : ", or leave out --no-autostart") + ")", ExitCodes.UNREACHABLE);
            }
            autostart(target, inv);
        }
        try (ForkdClient client = options.connect(target.address(), inv, options.session(inv), callsDirectly())) {
            return run(client, inv);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                throw new CliFailure("cannot reach the server at " + target.address() + ": "
                        + ExitCodes.describe(e.getStatus()) + hint(target), ExitCodes.UNREACHABLE, e);
            }
            throw e;
        } finally {
            inv.out().flush();
            inv.err().flush();
        }
    }

    private void autostart(ServerTarget target, Invocation inv) {
        ServerLauncher launcher = ServerLauncher.forEnvironment(
                target.paths(), inv.env(), Main.class.getName(), List.of("serve"), AUTOSTART_PATIENCE);
        try {
            launcher.ensureRunning().ifPresent(started -> {
                inv.err().println("forkd: started a server at " + new ListenAddress.Unix(started.socket())
                        + " (pid " + started.pid() + ", log " + started.logFile() + ")");
                inv.err().flush();
            });
        } catch (IOException e) {
            throw new CliFailure("could not start a server at " + target.address() + ": " + e.getMessage(),
                    ExitCodes.UNREACHABLE, e);
        }
    }

    private static String hint(ServerTarget target) {
        return switch (target.address()) {
            case ListenAddress.Unix u -> " (is 'forkd serve --listen " + u + "' running?)";
            case ListenAddress.Tcp t -> " (is 'forkd serve --listen " + t + "' running and reachable?"
                    + " A TLS server needs --tls-ca, and with client certificates --tls-cert and --tls-key)";
        };
    }
}
