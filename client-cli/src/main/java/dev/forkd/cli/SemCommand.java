package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.ReleaseResponse;
import dev.forkd.v1.SyncKind;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sem", mixinStandardHelpOptions = true,
        description = {
            "Acquire, release and inspect named semaphores.",
            "Permits belong to the session whose credential is in $FORKD_SESSION or --session, and come back when it ends."
        },
        subcommands = {SemCommand.Acquire.class, SemCommand.Release.class, SyncStatusCommand.class})
final class SemCommand extends CommandGroup {

    @Command(name = "acquire", mixinStandardHelpOptions = true,
            description = {"Take one permit for this session; exits 124 if the timeout passes first."})
    static final class Acquire extends ClientCommand {
        @Parameters(paramLabel = "NAME", description = "The semaphore's name (created on first use).")
        String name;

        @Option(names = "--value", paramLabel = "N", description = "Permits of a semaphore created now (default 1);"
                + " if it exists, must match.")
        int value;

        @Option(names = "--bounded", description = "Create a BoundedSemaphore: release above the start is an error.")
        boolean bounded;

        @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Give up after this long (0: only try); default: wait.")
        Duration timeout;

        @Override
        int run(ForkdClient client, Invocation inv) {
            if (options.session(inv).isEmpty()) {
                throw new CliFailure("'forkd sem acquire' needs a session to own the permit: in a shell script, first"
                        + " eval \"$(forkd session --parent $$)\" (or run it in a forkd child, where $FORKD_SESSION is"
                        + " set, or pass --session CREDENTIAL)", ExitCodes.USAGE);
            }
            var req = AcquireRequest.newBuilder().setName(name).setValue(value)
                    .setKind(bounded ? SyncKind.SYNC_KIND_BOUNDED_SEMAPHORE : SyncKind.SYNC_KIND_SEMAPHORE);
            AcquireResponse r = Waits.acquire(client.sync(), req, timeout);
            if (options.json()) {
                Json.print(inv.out(), r);
            }
            if (!r.getAcquired()) {
                inv.err().println("forkd: no permit of " + name + " within " + ProcessText.exactDuration(timeout));
                return ExitCodes.STILL_RUNNING;
            }
            if (!options.json()) {
                inv.out().println("acquired a permit of " + name
                        + (r.getAbandoned() ? "; a holder died holding one" : ""));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true, description = "Give one permit back.")
    static final class Release extends ClientCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(ForkdClient client, Invocation inv) {
            ReleaseResponse r = client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .release(ReleaseRequest.newBuilder().setName(name).build());
            if (options.json()) {
                Json.print(inv.out(), r);
            } else {
                inv.out().println("released a permit of " + name + " (" + r.getValue() + " free)");
            }
            return ExitCodes.OK;
        }
    }
}
