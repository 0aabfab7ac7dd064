package dev.forkd.cli;

import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AddValueRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "value", mixinStandardHelpOptions = true,
        description = "Get, set, atomically add to, list and delete named shared values (int64, double, bool, string, bytes).",
        subcommands = {ValueCommand.Get.class, ValueCommand.Set.class, ValueCommand.Add.class,
            ValueListing.Ls.class, ValueListing.Rm.class})
final class ValueCommand extends CommandGroup {

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Print a value.")
    static final class Get extends ClientCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        boolean callsDirectly() {
            return true;
        }

        @Override
        int run(ForkdClient client, Invocation inv) {
            var r = client.shared().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .getValue(GetValueRequest.newBuilder().setName(name).build());
            if (options.json()) {
                Json.print(inv.out(), r);
            } else {
                inv.out().println(Scalars.format(r.getValue()));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Set a value, creating it with VALUE's type (a value keeps its type).")
    static final class Set extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "VALUE")
        String value;

        @Option(names = "--type", paramLabel = "TYPE", description = "auto (default: integer, decimal, true/false, else string),"
                + " int64, double, bool, string or bytes (hex).")
        Scalars.Type type = Scalars.Type.AUTO;

        @Override
        boolean callsDirectly() {
            return true;
        }

        @Override
        int run(ForkdClient client, Invocation inv) {
            var r = client.shared().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .setValue(SetValueRequest.newBuilder().setName(name).setValue(Scalars.parse(value, type)).build());
            if (options.json()) {
                Json.print(inv.out(), r);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Add DELTA (default 1) to an int64 or double value and print the result.",
                "Each addition is one atomic call; with --under-lock it is instead a read and a write made",
                "safe by holding LOCK around them (the 'with v.get_lock(): v.value += 1' pattern)."})
    static final class Add extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", arity = "0..1", paramLabel = "DELTA")
        String delta = "1";

        @Option(names = "--times", paramLabel = "N", description = "Do it N times (default 1).")
        int times = 1;

        @Option(names = "--under-lock", paramLabel = "LOCK",
                description = "Read, add and write while holding this lock, once per addition.")
        String lock;

        @Override
        boolean callsDirectly() {
            return true;
        }

        @Override
        int run(ForkdClient client, Invocation inv) {
            if (times < 1) {
                throw new CliFailure("--times must be at least 1", ExitCodes.USAGE);
            }
            Scalar d = Scalars.parse(delta, Scalars.Type.AUTO);
            if (d.getKindCase() != Scalar.KindCase.INT64_VALUE && d.getKindCase() != Scalar.KindCase.DOUBLE_VALUE) {
                throw new CliFailure("DELTA must be a number, not \"" + delta + "\"", ExitCodes.USAGE);
            }
            Scalar last;
            if (lock == null) {
                var shared = client.shared();
                last = null;
                for (int i = 0; i < times; i++) {
                    last = shared.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                            .addValue(AddValueRequest.newBuilder().setName(name).setDelta(d).build()).getValue();
                }
            } else {
                Optional<ClientSession> own = options.session(inv).isPresent() ? Optional.empty()
                        : Optional.of(client.openSession("forkd value add", Duration.ofSeconds(10), CALL_DEADLINE));
                try {
                    SyncServiceGrpc.SyncServiceBlockingStub sync = own
                            .map(s -> client.sync().withInterceptors(ForkdClient.sessionHeader(s.credential())))
                            .orElseGet(client::sync);
                    last = addUnderLock(sync, client.shared(), d);
                } finally {
                    own.ifPresent(ClientSession::close);
                }
            }
            inv.out().println(Scalars.format(last));
            return ExitCodes.OK;
        }

        private Scalar addUnderLock(SyncServiceGrpc.SyncServiceBlockingStub sync,
                SharedServiceGrpc.SharedServiceBlockingStub shared, Scalar d) {
            Scalar last = null;
            var acquire = AcquireRequest.newBuilder().setName(lock).build();
            var release = ReleaseRequest.newBuilder().setName(lock).build();
            var get = GetValueRequest.newBuilder().setName(name).build();
            for (int i = 0; i < times; i++) {
                sync.acquire(acquire);
                try {
                    Scalar cur;
                    try {
                        cur = shared.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).getValue(get).getValue();
                    } catch (StatusRuntimeException e) {
                        if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                            throw e;
                        }
                        cur = d.getKindCase() == Scalar.KindCase.INT64_VALUE ? Scalar.newBuilder().setInt64Value(0).build()
                                : Scalar.newBuilder().setDoubleValue(0).build();
                    }
                    last = d.getKindCase() == Scalar.KindCase.INT64_VALUE
                            ? Scalar.newBuilder().setInt64Value(cur.getInt64Value() + d.getInt64Value()).build()
                            : Scalar.newBuilder().setDoubleValue(cur.getDoubleValue() + d.getDoubleValue()).build();
                    shared.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                            .setValue(SetValueRequest.newBuilder().setName(name).setValue(last).build());
                } finally {
                    sync.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).release(release);
                }
            }
            return last;
        }
    }
}
