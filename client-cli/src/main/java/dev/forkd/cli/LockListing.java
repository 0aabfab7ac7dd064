package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.DeleteSyncRequest;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.ListSyncRequest;
import dev.forkd.v1.ListSyncResponse;
import dev.forkd.v1.SyncInfo;
import dev.forkd.v1.SyncKind;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code forkd lock ls} and {@code forkd lock rm}: the locks there are, and forgetting them. */
final class LockListing {

    private LockListing() {}

    static boolean isLock(SyncInfo info) {
        return info.getKind() == SyncKind.SYNC_KIND_LOCK || info.getKind() == SyncKind.SYNC_KIND_RLOCK;
    }

    /** Every lock and re-entrant lock, by name, over all pages. */
    static List<SyncInfo> locks(ForkdClient client) {
        List<SyncInfo> all = new ArrayList<>();
        String token = "";
        do {
            ListSyncResponse page = client.sync().withDeadlineAfter(ClientCommand.CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .list(ListSyncRequest.newBuilder().setPageToken(token).build());
            page.getPrimitivesList().stream().filter(LockListing::isLock).forEach(all::add);
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        return all;
    }

    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = {"List the locks: name, kind, holder (a session's public id), depth, waiters and the latest fencing token."})
    static final class Ls extends ClientCommand {
        @Override
        int run(ForkdClient client, Invocation inv) {
            List<SyncInfo> locks = locks(client);
            if (options.json()) {
                Json.print(inv.out(), ListSyncResponse.newBuilder().addAllPrimitives(locks).build());
                return ExitCodes.OK;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"NAME", "KIND", "HOLDER", "DEPTH", "WAITERS", "FENCING"});
            for (SyncInfo l : locks) {
                rows.add(new String[] {l.getName(), l.getKind() == SyncKind.SYNC_KIND_RLOCK ? "rlock" : "lock",
                    l.getHolderSession().isEmpty() ? "-" : l.getHolderSession(), Integer.toString(l.getDepth()),
                    Integer.toString(l.getWaiters()), Long.toString(l.getFencingToken())});
            }
            Columns.print(inv.out(), rows);
            return ExitCodes.OK;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = {"Delete locks by name (a held one too: its holder and waiters are told it is gone)."})
    static final class Rm extends ClientCommand {
        @Parameters(paramLabel = "NAME", arity = "1..*")
        List<String> names;

        @Override
        int run(ForkdClient client, Invocation inv) {
            return EachId.run(names, inv, name -> {
                SyncInfo info = client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .get(GetSyncRequest.newBuilder().setName(name).build()).getInfo();
                if (!isLock(info)) {
                    // 'lock rm' must not delete a semaphore or an event that happens to have the name.
                    inv.err().println("forkd: " + name + " is not a lock (" + info.getKind() + ")");
                    return ExitCodes.REFUSED;
                }
                client.sync().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .delete(DeleteSyncRequest.newBuilder().setName(name).build());
                inv.out().println(name);
                return ExitCodes.OK;
            });
        }
    }
}
