package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.client.ServerTarget;
import dev.forkd.v1.ShutdownRequest;
import dev.forkd.v1.ShutdownResponse;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "shutdown", mixinStandardHelpOptions = true,
        description = {
            "Stop the server, as SIGTERM to `forkd serve` does: its processes and agents are stopped first.",
            "With --keep-children, as SIGTERM to `forkd serve --restart-keep`: the server exits and its agents",
            "and children keep running for the next `forkd serve` on the same state directory to adopt.",
            "On a Unix socket it returns once the server has exited. It never starts a server."
        })
final class ShutdownCommand extends ClientCommand {

    @Option(names = "--keep-children",
            description = "Leave the agents and children running for the next server (needs a state directory).")
    boolean keepChildren;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class, defaultValue = "2m",
            description = "How long to wait for the server to exit (default ${DEFAULT-VALUE}; it stops its"
                    + " children within their stop grace first).")
    Duration timeout;

    @Override
    boolean autostarts() {
        return false;
    }

    @Override
    int run(ForkdClient client, Invocation inv) throws Exception {
        ShutdownResponse r = client.server()
                .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .shutdown(ShutdownRequest.newBuilder().setKeepChildren(keepChildren).build());
        // Only a server on this host's Unix socket is a process this command can see end.
        boolean local = ServerTarget.resolve(options.address(), inv.env()).address() instanceof ListenAddress.Unix;
        if (local) {
            // Not ProcessHandle.onExit: for a process that is not its child the JDK looks every 300 ms
            // or more, and it completes on the common pool, where a stage blocked elsewhere in the same
            // JVM holds it up (seen in the CLI tests: two minutes).
            try {
                ProcessExitWatch.onExit(r.getPid()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new CliFailure("forkd (pid " + r.getPid() + ") is stopping but has not exited within "
                        + timeout.toMillis() + " ms (--timeout)", ExitCodes.ERROR);
            } catch (ExecutionException e) {
                throw new CliFailure("cannot wait for forkd (pid " + r.getPid() + "): " + e.getMessage(), ExitCodes.ERROR, e);
            }
        }
        if (options.json()) {
            Json.print(inv.out(), r);
        } else {
            String verb = local ? "stopped" : "stopping";
            inv.out().println(r.getKeepChildren()
                    ? verb + " forkd (pid " + r.getPid() + "); " + r.getRunning() + " processes keep running for the next forkd serve"
                    : verb + " forkd (pid " + r.getPid() + ") and its " + r.getRunning() + " processes");
        }
        return ExitCodes.OK;
    }
}
