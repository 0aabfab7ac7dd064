package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.DeleteDictItemRequest;
import dev.forkd.v1.DictItem;
import dev.forkd.v1.GetDictItemRequest;
import dev.forkd.v1.ListDictItemsRequest;
import dev.forkd.v1.ListDictItemsResponse;
import dev.forkd.v1.SetDictItemsRequest;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "dict", mixinStandardHelpOptions = true,
        description = "Get, set, remove and list entries of named shared dicts (string keys, typed values).",
        subcommands = {DictCommand.Get.class, DictCommand.Set.class, DictCommand.Rm.class, DictCommand.Ls.class})
final class DictCommand extends CommandGroup {

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Print one entry's value; exits 1 if absent.")
    static final class Get extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Override
        int run(ForkdClient client, Invocation inv) {
            var r = client.shared().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .getDictItem(GetDictItemRequest.newBuilder().setName(name).setKey(key).build());
            if (options.json()) {
                Json.print(inv.out(), r);
            } else if (r.getFound()) {
                inv.out().println(Scalars.format(r.getValue()));
            }
            if (!r.getFound()) {
                inv.err().println("forkd: " + name + " has no key \"" + key + "\"");
                return ExitCodes.ERROR;
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Set one or more entries at once (KEY VALUE [KEY VALUE ...]); the dict is created if new.")
    static final class Set extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1..*", arity = "2..*", paramLabel = "KEY VALUE")
        List<String> pairs;

        @Option(names = "--type", paramLabel = "TYPE", description = "The values' type (as for 'forkd value set').")
        Scalars.Type type = Scalars.Type.AUTO;

        @Override
        int run(ForkdClient client, Invocation inv) {
            if (pairs.size() % 2 != 0) {
                throw new CliFailure("give KEY VALUE pairs; \"" + pairs.getLast() + "\" has no value", ExitCodes.USAGE);
            }
            var req = SetDictItemsRequest.newBuilder().setName(name);
            for (int i = 0; i < pairs.size(); i += 2) {
                req.addItems(DictItem.newBuilder().setKey(pairs.get(i)).setValue(Scalars.parse(pairs.get(i + 1), type)));
            }
            var r = client.shared().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).setDictItems(req.build());
            if (options.json()) {
                Json.print(inv.out(), r);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove an entry; exits 1 if it was absent.")
    static final class Rm extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Override
        int run(ForkdClient client, Invocation inv) {
            var r = client.shared().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .deleteDictItem(DeleteDictItemRequest.newBuilder().setName(name).setKey(key).build());
            if (options.json()) {
                Json.print(inv.out(), r);
            }
            if (!r.getFound()) {
                inv.err().println("forkd: " + name + " has no key \"" + key + "\"");
                return ExitCodes.ERROR;
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List entries as KEY<TAB>VALUE lines, in key order.")
    static final class Ls extends ClientCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--keys", description = "Keys only.")
        boolean keysOnly;

        @Override
        int run(ForkdClient client, Invocation inv) {
            String token = "";
            do {
                ListDictItemsResponse page = client.shared().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .listDictItems(ListDictItemsRequest.newBuilder().setName(name).setKeysOnly(keysOnly)
                                .setPageToken(token).build());
                for (DictItem i : page.getItemsList()) {
                    if (options.json()) {
                        Json.print(inv.out(), i);
                    } else {
                        inv.out().println(keysOnly ? i.getKey() : i.getKey() + "\t" + Scalars.format(i.getValue()));
                    }
                }
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            return ExitCodes.OK;
        }
    }
}
