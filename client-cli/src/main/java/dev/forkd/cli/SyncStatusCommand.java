package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.SyncInfo;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code forkd lock|sem|event|barrier status NAME}: one line (or JSON) about any named primitive. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show a named primitive: holder (its session's public id) and fencing token, free permits,"
                + " set or clear, arrivals, broken, and how many wait.")
final class SyncStatusCommand extends ClientCommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    boolean autostarts() {
        return false;
    }

    @Override
    int run(ForkdClient client, Invocation inv) {
        SyncInfo i = client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .get(GetSyncRequest.newBuilder().setName(name).build()).getInfo();
        if (options.json()) {
            Json.print(inv.out(), i);
        } else {
            inv.out().println(describe(i));
        }
        return ExitCodes.OK;
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
