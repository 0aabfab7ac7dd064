package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ClearEventRequest;
import dev.forkd.v1.SetEventRequest;
import dev.forkd.v1.WaitEventRequest;
import dev.forkd.v1.WaitEventResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "event", mixinStandardHelpOptions = true,
        description = "Set, clear, wait for and inspect named events (created clear on first use).",
        subcommands = {EventCommand.Set.class, EventCommand.Clear.class, EventCommand.Wait.class, SyncStatusCommand.class})
final class EventCommand extends CommandGroup {

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Set the event, waking every waiter.")
    static final class Set extends ClientCommand {

        @Override
        boolean printsJson() {
            return false;
        }

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(ForkdClient client, Invocation inv) {
            int woken = client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .setEvent(SetEventRequest.newBuilder().setName(name).build()).getWoken();
            inv.out().println("set " + name + " (woke " + woken + ")");
            return ExitCodes.OK;
        }
    }

    @Command(name = "clear", mixinStandardHelpOptions = true, description = "Clear the event.")
    static final class Clear extends ClientCommand {

        @Override
        boolean printsJson() {
            return false;
        }

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(ForkdClient client, Invocation inv) {
            client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .clearEvent(ClearEventRequest.newBuilder().setName(name).build());
            inv.out().println("cleared " + name);
            return ExitCodes.OK;
        }
    }

    @Command(name = "wait", mixinStandardHelpOptions = true,
            description = "Wait until the event is set; exits 124 if the timeout passes first.")
    static final class Wait extends ClientCommand {

        @Override
        boolean printsJson() {
            return false;
        }

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Give up after this long (0: only look); default: wait.")
        Duration timeout;

        @Override
        int run(ForkdClient client, Invocation inv) {
            var req = WaitEventRequest.newBuilder().setName(name);
            if (timeout != null) {
                req.setTimeout(Waits.proto(timeout));
            }
            WaitEventResponse r = Waits.bounded(client.sync(), timeout).waitEvent(req.build());
            if (!r.getIsSet()) {
                inv.err().println("forkd: " + name + " not set within " + ProcessText.exactDuration(timeout));
                return ExitCodes.STILL_RUNNING;
            }
            inv.out().println(name + " is set");
            return ExitCodes.OK;
        }
    }
}
