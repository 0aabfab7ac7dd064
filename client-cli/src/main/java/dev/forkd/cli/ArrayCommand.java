package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AddArrayItemRequest;
import dev.forkd.v1.CreateArrayRequest;
import dev.forkd.v1.GetArrayRequest;
import dev.forkd.v1.GetArrayResponse;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.ScalarType;
import dev.forkd.v1.SetArrayRequest;
import dev.forkd.v1.SharedServiceGrpc;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "array", mixinStandardHelpOptions = true,
        description = "Create, read and write named shared arrays: a fixed length of one type (multiprocessing.Array).",
        subcommands = {ArrayCommand.Create.class, ArrayCommand.Get.class, ArrayCommand.Set.class, ArrayCommand.Add.class})
final class ArrayCommand extends CommandGroup {

    /** Reads {@code --type}: int64 (or int), double (or float), bool, string (or str), bytes. */
    static final class TypeConverter implements CommandLine.ITypeConverter<ScalarType> {
        @Override
        public ScalarType convert(String text) {
            return switch (text.toLowerCase(Locale.ROOT)) {
                case "int", "int64" -> ScalarType.SCALAR_TYPE_INT64;
                case "float", "double" -> ScalarType.SCALAR_TYPE_DOUBLE;
                case "bool" -> ScalarType.SCALAR_TYPE_BOOL;
                case "str", "string" -> ScalarType.SCALAR_TYPE_STRING;
                case "bytes" -> ScalarType.SCALAR_TYPE_BYTES;
                default -> throw new CommandLine.TypeConversionException(
                        "\"" + text + "\" is not a type: int64, double, bool, string or bytes");
            };
        }
    }

    /** How values typed for an array of {@code t} are read. */
    static Scalars.Type parsing(ScalarType t) {
        return switch (t) {
            case SCALAR_TYPE_INT64 -> Scalars.Type.INT64;
            case SCALAR_TYPE_DOUBLE -> Scalars.Type.DOUBLE;
            case SCALAR_TYPE_BOOL -> Scalars.Type.BOOL;
            case SCALAR_TYPE_STRING -> Scalars.Type.STRING;
            case SCALAR_TYPE_BYTES -> Scalars.Type.BYTES;
            case SCALAR_TYPE_UNSPECIFIED, UNRECOGNIZED -> Scalars.Type.AUTO;
        };
    }

    private static SharedServiceGrpc.SharedServiceBlockingStub stub(ForkdClient client) {
        return client.shared().withDeadlineAfter(ClientCommand.CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The array's element type, unless the user gave one: one empty read. */
    private static Scalars.Type typeOf(ForkdClient client, String name, ScalarType given) {
        if (given != null) {
            return parsing(given);
        }
        return parsing(stub(client).getArray(GetArrayRequest.newBuilder().setName(name).setStart(0).setStop(0).build())
                .getType());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create an array of --length zeros of --type, or of the VALUEs given.",
                "An existing array of that type and length is left as it is; another is an error."})
    static final class Create extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1..*", arity = "0..*", paramLabel = "VALUE", description = "The initial elements.")
        List<String> values = List.of();

        @Option(names = "--type", required = true, paramLabel = "TYPE", converter = TypeConverter.class,
                description = "int64, double, bool, string or bytes (hex).")
        ScalarType type;

        @Option(names = "--length", paramLabel = "N", description = "Elements (default: as many as VALUEs).")
        long length;

        @Override
        int run(ForkdClient client, Invocation inv) {
            var req = CreateArrayRequest.newBuilder().setName(name).setType(type).setLength(length);
            values.forEach(v -> req.addItems(Scalars.parse(v, parsing(type))));
            var r = stub(client).createArray(req.build());
            if (options.json()) {
                Json.print(inv.out(), r);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = {"Print elements, one a line: all of them, the one at START, or START up to STOP",
                "(Python's a[i] and a[start:stop]; negative counts from the end)."})
    static final class Get extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", arity = "0..1", paramLabel = "START")
        Long start;

        @Parameters(index = "2", arity = "0..1", paramLabel = "STOP")
        Long stop;

        @Override
        int run(ForkdClient client, Invocation inv) {
            if (start != null && stop == null) {
                print(inv, stub(client).getArray(GetArrayRequest.newBuilder().setName(name).setIndex(start).build()));
                return ExitCodes.OK;
            }
            if (start != null) {
                print(inv, stub(client).getArray(GetArrayRequest.newBuilder().setName(name).setStart(start)
                        .setStop(stop).build()));
                return ExitCodes.OK;
            }
            // The whole array, a page at a time (each page is atomic; the whole is not).
            long from = 0;
            GetArrayResponse page;
            do {
                page = stub(client).getArray(GetArrayRequest.newBuilder().setName(name).setStart(from)
                        .setStop(from + PAGE).build());
                print(inv, page);
                from += PAGE;
            } while (from < page.getLength());
            return ExitCodes.OK;
        }

        private static final long PAGE = 10_000;

        private void print(Invocation inv, GetArrayResponse r) {
            if (options.json()) {
                Json.print(inv.out(), r);
                return;
            }
            StringBuilder sb = new StringBuilder();
            for (Scalar s : r.getItemsList()) {
                sb.append(Scalars.format(s)).append('\n');
            }
            inv.out().print(sb);
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Replace the elements from START on with the VALUEs (a[start:start+n] = values),",
                "all at once; an array's length never changes, so they must fit."})
    static final class Set extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "START")
        long start;

        @Parameters(index = "2..*", arity = "1..*", paramLabel = "VALUE")
        List<String> values;

        @Option(names = "--type", paramLabel = "TYPE", converter = TypeConverter.class,
                description = "How to read the VALUEs (default: the array's type, asked of the server).")
        ScalarType type;

        @Override
        int run(ForkdClient client, Invocation inv) {
            Scalars.Type t = typeOf(client, name, type);
            var req = SetArrayRequest.newBuilder().setName(name).setStart(start);
            values.forEach(v -> req.addItems(Scalars.parse(v, t)));
            var r = stub(client).setArray(req.build());
            if (options.json()) {
                Json.print(inv.out(), r);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Atomically add DELTA (default 1) to the element at INDEX of an int64 or double array; print it.")
    static final class Add extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "INDEX")
        long index;

        @Parameters(index = "2", arity = "0..1", paramLabel = "DELTA")
        String delta = "1";

        @Override
        int run(ForkdClient client, Invocation inv) {
            Scalar d = Scalars.parse(delta, typeOf(client, name, null));
            var r = stub(client).addArrayItem(AddArrayItemRequest.newBuilder().setName(name).setIndex(index)
                    .setDelta(d).build());
            if (options.json()) {
                Json.print(inv.out(), r);
            } else {
                inv.out().println(Scalars.format(r.getItem()));
            }
            return ExitCodes.OK;
        }
    }
}
