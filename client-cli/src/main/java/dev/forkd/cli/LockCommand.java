package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.ReleaseResponse;
import dev.forkd.v1.SyncKind;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "lock", mixinStandardHelpOptions = true,
        description = {
            "Acquire, release and inspect named locks held by a session.",
            "A lock belongs to the session whose credential is in $FORKD_SESSION (every forkd child has one)",
            "or --session; when that session ends, the lock passes to the next waiter, who is told it was",
            "abandoned. 'lock status' shows the holder's public id, which releases nothing.",
            "To hold a lock just while one command runs, use 'forkd with-lock NAME -- CMD'."
        },
        subcommands = {LockCommand.Acquire.class, LockCommand.Release.class, SyncStatusCommand.class,
            LockListing.Ls.class, LockListing.Rm.class})
final class LockCommand extends CommandGroup {

    static CliFailure needsSession(String verb) {
        return new CliFailure("'forkd lock " + verb + "' needs a session to own the lock: in a shell script, first"
                + " eval \"$(forkd session --parent $$)\" (or run it in a forkd child, where $FORKD_SESSION is set, or"
                + " pass --session CREDENTIAL); to hold a lock while a command runs, use"
                + " 'forkd with-lock NAME -- CMD'", ExitCodes.USAGE);
    }

    /** One line about an acquire that succeeded. */
    static String acquired(String name, AcquireResponse r) {
        return "acquired " + name + " (fencing token " + r.getFencingToken()
                + (r.getDepth() > 1 ? ", depth " + r.getDepth() : "") + ")"
                + (r.getAbandoned() ? "; its previous holder died holding it" : "");
    }

    @Command(name = "acquire", mixinStandardHelpOptions = true,
            description = {"Acquire a lock for this session; prints its fencing token.",
                "Exits 124 if the timeout passes first."})
    static final class Acquire extends ClientCommand {
        @Parameters(paramLabel = "NAME", description = "The lock's name (created on first use).")
        String name;

        @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Give up after this long (0: only try); default: wait until acquired.")
        Duration timeout;

        @Option(names = "--rlock", description = "A re-entrant lock: this session may acquire it again.")
        boolean rlock;

        @Override
        int run(ForkdClient client, Invocation inv) {
            if (options.session(inv).isEmpty()) {
                throw needsSession("acquire");
            }
            var req = AcquireRequest.newBuilder().setName(name)
                    .setKind(rlock ? SyncKind.SYNC_KIND_RLOCK : SyncKind.SYNC_KIND_LOCK);
            AcquireResponse r = Waits.acquire(client.sync(), req, timeout);
            if (options.json()) {
                Json.print(inv.out(), r);
            }
            if (!r.getAcquired()) {
                inv.err().println("forkd: " + name + " not acquired within " + ProcessText.exactDuration(timeout));
                return ExitCodes.STILL_RUNNING;
            }
            if (!options.json()) {
                inv.out().println(acquired(name, r));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true,
            description = "Release a lock this session holds (an RLock once per acquire).")
    static final class Release extends ClientCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(ForkdClient client, Invocation inv) {
            if (options.session(inv).isEmpty()) {
                throw needsSession("release");
            }
            ReleaseResponse r = client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                    .release(ReleaseRequest.newBuilder().setName(name).build());
            if (options.json()) {
                Json.print(inv.out(), r);
            } else {
                inv.out().println(r.getDepth() > 0 ? "released " + name + " once; still held (depth " + r.getDepth() + ")"
                        : "released " + name);
            }
            return ExitCodes.OK;
        }
    }
}
