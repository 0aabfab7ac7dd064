package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.DeleteSharedRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.ListSharedRequest;
import dev.forkd.v1.ListSharedResponse;
import dev.forkd.v1.SharedInfo;
import dev.forkd.v1.SharedKind;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code forkd value ls} and {@code forkd value rm}: the shared values there are, and deleting them. */
final class ValueListing {

    private ValueListing() {}

    @Command(name = "ls", mixinStandardHelpOptions = true, description = {"List the shared values: name and version."})
    static final class Ls extends ClientCommand {
        @Override
        int run(ForkdClient client, Invocation inv) {
            List<SharedInfo> values = new ArrayList<>();
            String token = "";
            do {
                ListSharedResponse page = client.shared().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .list(ListSharedRequest.newBuilder().setKind(SharedKind.SHARED_KIND_VALUE).setPageToken(token).build());
                values.addAll(page.getObjectsList());
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            if (options.json()) {
                Json.print(inv.out(), ListSharedResponse.newBuilder().addAllObjects(values).build());
                return ExitCodes.OK;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"NAME", "VERSION"});
            values.forEach(v -> rows.add(new String[] {v.getName(), Long.toString(v.getVersion())}));
            Columns.print(inv.out(), rows);
            return ExitCodes.OK;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = {"Delete shared values by name."})
    static final class Rm extends ClientCommand {
        @Parameters(paramLabel = "NAME", arity = "1..*")
        List<String> names;

        @Override
        int run(ForkdClient client, Invocation inv) {
            return EachId.run(names, inv, name -> {
                // Refused unless NAME is a value: 'value rm' must not delete a dict or a list of that name.
                client.shared().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .getValue(GetValueRequest.newBuilder().setName(name).build());
                client.shared().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .delete(DeleteSharedRequest.newBuilder().setName(name).build());
                inv.out().println(name);
                return ExitCodes.OK;
            });
        }
    }
}
