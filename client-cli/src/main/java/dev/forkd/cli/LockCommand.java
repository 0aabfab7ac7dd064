package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.ReleaseResponse;
import dev.forkd.v1.SyncInfo;
import dev.forkd.v1.SyncKind;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "lock", mixinStandardHelpOptions = true,
        description = {
            "Acquire, release and inspect named locks held by a session.",
            "A lock belongs to the session in $FORKD_SESSION (every forkd child has one) or --session;",
            "when that session ends, the lock passes to the next waiter, who is told it was abandoned.",
            "To hold a lock just while one command runs, use 'forkd with-lock NAME -- CMD'."
        },
        subcommands = {LockCommand.Acquire.class, LockCommand.Release.class, LockCommand.Status.class})
final class LockCommand extends CommandGroup {

    static CliFailure needsSession(String verb) {
        return new CliFailure("'forkd lock " + verb + "' needs a session to own the lock (run it in a forkd child,"
                + " where $FORKD_SESSION is set, or pass --session ID); to hold a lock while a command runs, use"
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
            if (timeout != null) {
                req.setTimeout(Waits.proto(timeout));
            }
            AcquireResponse r = Waits.bounded(client.sync(), timeout).acquire(req.build());
            if (options.json()) {
                Json.print(inv.out(), r);
            }
            if (!r.getAcquired()) {
                inv.err().println("forkd: " + name + " not acquired within " + ProcessText.shortDuration(timeout));
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

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show who holds a lock (or any named primitive), its fencing token and waiters.")
    static final class Status extends ClientCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        boolean autostarts() {
            return false;
        }

        @Override
        int run(ForkdClient client, Invocation inv) {
            SyncInfo i = client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                    .get(GetSyncRequest.newBuilder().setName(name).build()).getInfo();
            if (options.json()) {
                Json.print(inv.out(), i);
            } else {
                inv.out().println(describe(i));
            }
            return ExitCodes.OK;
        }
    }

    /** One line about any primitive. */
    static String describe(SyncInfo i) {
        String kind = i.getKind().name().substring("SYNC_KIND_".length()).toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
        String state = switch (i.getKind()) {
            case SYNC_KIND_LOCK, SYNC_KIND_RLOCK -> (i.getHolderSession().isEmpty() ? "free"
                    : "held by session " + i.getHolderSession() + (i.getDepth() > 1 ? " (depth " + i.getDepth() + ")" : ""))
                    + ", fencing token " + i.getFencingToken();
            case SYNC_KIND_SEMAPHORE, SYNC_KIND_BOUNDED_SEMAPHORE -> i.getValue() + " of " + i.getInitialValue() + " free";
            case SYNC_KIND_EVENT -> i.getIsSet() ? "set" : "clear";
            case SYNC_KIND_CONDITION -> "bound to lock " + i.getLock();
            case SYNC_KIND_BARRIER -> (i.getBroken() ? "broken" : i.getArrived() + " of " + i.getParties() + " arrived");
            default -> "";
        };
        return i.getName() + ": " + kind + ", " + state + (i.getWaiters() > 0 ? ", " + i.getWaiters() + " waiting" : "");
    }
}
