package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AbortBarrierRequest;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.ResetBarrierRequest;
import dev.forkd.v1.WaitBarrierRequest;
import dev.forkd.v1.WaitBarrierResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "barrier", mixinStandardHelpOptions = true,
        description = {"Wait at, abort, reset and inspect named barriers.",
            "A party that dies while waiting breaks the barrier for the others, as a timeout does."},
        subcommands = {BarrierCommand.Wait.class, BarrierCommand.Abort.class, BarrierCommand.Reset.class,
            BarrierCommand.Status.class})
final class BarrierCommand extends CommandGroup {

    @Command(name = "wait", mixinStandardHelpOptions = true,
            description = {"Wait until PARTIES callers have arrived; prints this caller's arrival index.",
                "Exits 1 if the barrier is or becomes broken, 124 if this caller's timeout broke it."})
    static final class Wait extends ClientCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--parties", paramLabel = "N", description = "Parties (required to create it; must match if it exists).")
        int parties;

        @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Break the barrier if it has not passed within this long.")
        Duration timeout;

        @Override
        int run(ForkdClient client, Invocation inv) {
            var req = WaitBarrierRequest.newBuilder().setName(name).setParties(parties);
            if (timeout != null) {
                req.setTimeout(Waits.proto(timeout));
            }
            WaitBarrierResponse r = Waits.bounded(client.sync(), timeout).waitBarrier(req.build());
            if (options.json()) {
                Json.print(inv.out(), r);
            }
            if (r.getBroken()) {
                inv.err().println("forkd: barrier " + name + " is broken"
                        + (r.getTimedOut() ? " (this caller's timeout broke it)" : "") + "; reset it to use it again");
                return r.getTimedOut() ? ExitCodes.STILL_RUNNING : ExitCodes.ERROR;
            }
            if (!options.json()) {
                inv.out().println(r.getIndex());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true, description = "Break the barrier for every waiter.")
    static final class Abort extends ClientCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(ForkdClient client, Invocation inv) {
            int n = client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .abortBarrier(AbortBarrierRequest.newBuilder().setName(name).build()).getWoken();
            inv.out().println("aborted " + name + " (" + n + " waiting)");
            return ExitCodes.OK;
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true, description = "Make it empty and unbroken again.")
    static final class Reset extends ClientCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(ForkdClient client, Invocation inv) {
            int n = client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .resetBarrier(ResetBarrierRequest.newBuilder().setName(name).build()).getWoken();
            inv.out().println("reset " + name + " (" + n + " waiting were told it broke)");
            return ExitCodes.OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show arrivals and whether it is broken.")
    static final class Status extends ClientCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(ForkdClient client, Invocation inv) {
            var i = client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .get(GetSyncRequest.newBuilder().setName(name).build()).getInfo();
            if (options.json()) {
                Json.print(inv.out(), i);
            } else {
                inv.out().println(LockCommand.describe(i));
            }
            return ExitCodes.OK;
        }
    }
}
