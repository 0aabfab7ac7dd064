package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ClosePoolRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.DeletePoolRequest;
import dev.forkd.v1.GetPoolRequest;
import dev.forkd.v1.JoinPoolRequest;
import dev.forkd.v1.JoinPoolResponse;
import dev.forkd.v1.ListPoolsRequest;
import dev.forkd.v1.ListPoolsResponse;
import dev.forkd.v1.PoolInfo;
import dev.forkd.v1.PoolState;
import dev.forkd.v1.TerminatePoolRequest;
import dev.forkd.v1.WorkerKind;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code forkd pool ...}: long-lived pools, like multiprocessing.Pool; {@code forkd map --pool} uses them. */
@Command(name = "pool", mixinStandardHelpOptions = true,
        description = {"Long-lived worker pools, like multiprocessing.Pool; feed them with 'forkd map --pool ID'.",
            "Exit codes: 0 ok, 1 refused by the server (unknown pool, still running), 2 usage, 3 no server."},
        subcommands = {PoolCommand.Create.class, PoolCommand.Ls.class, PoolCommand.Get.class,
            PoolCommand.Close.class, PoolCommand.Rm.class})
final class PoolCommand extends CommandGroup {

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Start a pool of workers running CMD and print its id.",
                "Per-task CMD: {} is the item, {#} the job number from 1 (the item is appended if there is no {});",
                "--persistent: CMD reads one item per line and writes one result per line."})
    static final class Create extends ClientCommand {

        @Option(names = "--name", paramLabel = "NAME", description = "Optional unique name.")
        String name;

        @Mixin
        PoolOptions pool;

        @Parameters(paramLabel = "CMD", arity = "1..*", description = "The worker command and its arguments.")
        List<String> command;

        @Override
        int run(ForkdClient client, Invocation inv) {
            CreatePoolRequest.Builder r = pool.create(command);
            if (name != null) {
                r.setName(name);
            }
            PoolInfo p = client.pools().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .create(r.build()).getPool();
            if (options.json()) {
                Json.print(inv.out(), p);
            } else {
                inv.out().println(p.getId());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List pools.")
    static final class Ls extends ClientCommand {

        @Override
        int run(ForkdClient client, Invocation inv) {
            List<PoolInfo> pools = new ArrayList<>();
            String token = "";
            do {
                ListPoolsResponse r = client.pools().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .list(ListPoolsRequest.newBuilder().setPageToken(token).build());
                pools.addAll(r.getPoolsList());
                token = r.getNextPageToken();
            } while (!token.isEmpty());
            if (options.json()) {
                Json.print(inv.out(), ListPoolsResponse.newBuilder().addAllPools(pools).build());
                return ExitCodes.OK;
            }
            String format = "%-9s %-16s %-8s %-10s %5s %5s %8s %9s %7s  %s%n";
            inv.out().printf(format, "ID", "NAME", "STATE", "KIND", "PROCS", "ALIVE", "PENDING", "SUCCEEDED", "FAILED",
                    "COMMAND");
            for (PoolInfo p : pools) {
                inv.out().printf(format, p.getId(), p.getName(), state(p.getState()), kind(p), p.getProcesses(),
                        p.getWorkersAlive(), p.getTasksPending(), p.getTasksSucceeded(), p.getTasksFailed(),
                        ProcessText.command(p.getWorker().getArgvList()));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one pool.")
    static final class Get extends ClientCommand {

        @Parameters(paramLabel = "POOL", description = "Pool id or name.")
        String id;

        @Override
        int run(ForkdClient client, Invocation inv) {
            PoolInfo p = client.pools().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .get(GetPoolRequest.newBuilder().setName(id).build()).getPool();
            if (options.json()) {
                Json.print(inv.out(), p);
            } else {
                describe(inv.out(), p);
            }
            return ExitCodes.OK;
        }

        private static void describe(PrintStream out, PoolInfo p) {
            field(out, "id", p.getId());
            field(out, "name", p.getName());
            field(out, "state", state(p.getState()));
            field(out, "kind", kind(p));
            field(out, "command", ProcessText.command(p.getWorker().getArgvList()));
            field(out, "processes", Integer.toString(p.getProcesses()));
            field(out, "alive", Integer.toString(p.getWorkersAlive()));
            field(out, "started", p.getWorkersStarted() + " worker(s)");
            field(out, "tasks", p.getTasksPending() + " pending, " + p.getTasksSucceeded() + " succeeded, "
                    + p.getTasksFailed() + " failed, " + p.getTasksRetried() + " retried");
            field(out, "retries", p.getMaxRetries() == 0 ? "" : p.getMaxRetries()
                    + (p.getRetryFailed() ? " (failed commands too)" : ""));
            field(out, "timeout", p.hasTaskTimeout()
                    ? ProcessText.exactDuration(java.time.Duration.ofNanos(
                            com.google.protobuf.util.Durations.toNanos(p.getTaskTimeout()))) : "");
            field(out, "recycle", p.getMaxTasksPerChild() == 0 ? "" : "after " + p.getMaxTasksPerChild() + " tasks");
            field(out, "init", ProcessText.command(p.getInitializerList()));
            field(out, "labels", p.getLabelsMap().entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).sorted().collect(Collectors.joining(",")));
            field(out, "workers", String.join(" ", p.getWorkerProcessIdsList()));
        }

        private static void field(PrintStream out, String key, String value) {
            if (!value.isEmpty()) {
                out.printf("%-9s %s%n", key, value);
            }
        }
    }

    @Command(name = "close", mixinStandardHelpOptions = true,
            description = {"Take no new tasks; the ones submitted finish, then the workers stop (Pool.close()).",
                "With --wait, also wait until it has ended (Pool.join())."})
    static final class Close extends ClientCommand {

        @Parameters(paramLabel = "POOL", arity = "1..*", description = "Pool ids or names.")
        List<String> ids;

        @Option(names = "--wait", description = "Wait until each pool has ended.")
        boolean await;

        @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "With --wait: give up after this long (exit 124).")
        Duration timeout;

        @Override
        int run(ForkdClient client, Invocation inv) {
            for (String id : ids) {
                PoolInfo p = client.pools().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .close(ClosePoolRequest.newBuilder().setName(id).build()).getPool();
                if (await && !join(client, inv, p.getId(), Optional.ofNullable(timeout))) {
                    return ExitCodes.STILL_RUNNING;
                }
                inv.out().println(p.getId());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = {"Forget pools that have ended. --force terminates a running pool first (Pool.terminate()):",
                "its workers are killed and its unfinished tasks fail."})
    static final class Rm extends ClientCommand {

        @Parameters(paramLabel = "POOL", arity = "1..*", description = "Pool ids or names.")
        List<String> ids;

        @Option(names = {"-f", "--force"}, description = "Terminate the pool first if it still runs.")
        boolean force;

        @Override
        int run(ForkdClient client, Invocation inv) {
            for (String id : ids) {
                if (force) {
                    PoolInfo p = client.pools().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                            .terminate(TerminatePoolRequest.newBuilder().setName(id).build()).getPool();
                    if (!join(client, inv, p.getId(), Optional.of(CALL_DEADLINE))) {
                        throw new CliFailure("pool " + p.getId() + " did not end within " + CALL_DEADLINE.toSeconds()
                                + " s of being terminated", ExitCodes.ERROR);
                    }
                }
                String deleted = client.pools().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .delete(DeletePoolRequest.newBuilder().setName(id).build()).getId();
                inv.out().println(deleted);
            }
            return ExitCodes.OK;
        }
    }

    /** Waits for a pool to end; false if {@code timeout} passed first (said on stderr). */
    static boolean join(ForkdClient client, Invocation inv, String id, Optional<Duration> timeout) {
        JoinPoolRequest.Builder r = JoinPoolRequest.newBuilder().setName(id);
        timeout.ifPresent(t -> r.setTimeout(ResourceCommand.proto(t)));
        JoinPoolResponse resp = client.pools()
                .withDeadlineAfter(ResourceCommand.deadlineMillis(timeout), TimeUnit.MILLISECONDS).join(r.build());
        if (resp.getTimedOut()) {
            inv.err().println("forkd: pool " + id + " still running after " + timeout.map(ProcessText::exactDuration).orElse("")
                    + " (" + resp.getPool().getTasksPending() + " task(s) pending)");
            return false;
        }
        return true;
    }

    static String state(PoolState s) {
        return switch (s) {
            case POOL_STATE_RUNNING -> "running";
            case POOL_STATE_CLOSING -> "closing";
            case POOL_STATE_ENDED -> "ended";
            default -> "unknown";
        };
    }

    static String kind(PoolInfo p) {
        return p.getWorker().getKind() == WorkerKind.WORKER_KIND_PERSISTENT ? "persistent" : "per-task";
    }
}
