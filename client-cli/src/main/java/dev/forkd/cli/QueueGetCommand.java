package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.Delivery;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.TakeResponse;
import dev.forkd.v1.TaskDoneRequest;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "get", mixinStandardHelpOptions = true,
        description = {"Take items and print them, one per line (or NUL-terminated with --null).",
            "Without --follow: takes up to -n items, waiting while the queue is empty; exits 124 if",
            "none came within --timeout, 1 if the queue is closed and drained.",
            "With --follow: prints items as they come (Consume; each acked once printed) until the",
            "queue is closed and drained, or --limit items; items not acked when it dies go back."})
final class QueueGetCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "QUEUE", description = "Queue id or name.")
    String queue;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Give up if nothing comes this long (0: do not wait); default: wait.")
    Duration timeout;

    @Option(names = {"-n", "--max-items"}, paramLabel = "N", description = "Take up to N items at once (default 1).")
    int maxItems = 1;

    @Option(names = {"-f", "--follow"}, description = "Keep printing items as they come.")
    boolean follow;

    @Option(names = "--limit", paramLabel = "N", description = "With --follow: stop after N items.")
    long limit;

    @Option(names = "--credit", paramLabel = "N", description = "With --follow: items in flight at most (default ${DEFAULT-VALUE}).")
    int credit = 1000;

    @Option(names = "--task-done", description = "Mark each item taken as done (JoinableQueue.task_done).")
    boolean taskDone;

    @Option(names = {"-0", "--null"}, description = "End each item with NUL, not newline.")
    boolean nul;

    @Override
    int work(ForkdClient client, Invocation inv) throws Exception {
        if (maxItems < 1 || credit < 1 || limit < 0) {
            throw new CliFailure("-n and --credit must be at least 1, --limit not negative", ExitCodes.USAGE);
        }
        return follow ? follow(client, inv) : take(client, inv);
    }

    private int take(ForkdClient client, Invocation inv) {
        TakeRequest.Builder r = TakeRequest.newBuilder().setName(queue).setMaxItems(maxItems);
        Optional<Duration> t = Optional.ofNullable(timeout);
        t.ifPresent(d -> r.setTimeout(proto(d)));
        TakeResponse resp = client.queues().withDeadlineAfter(deadlineMillis(t), TimeUnit.MILLISECONDS).take(r.build());
        if (resp.getTimedOut()) {
            inv.err().println("forkd: queue " + queue + " is empty (nothing within " + timeout + ")");
            return ExitCodes.TIMED_OUT;
        }
        if (resp.getClosed()) {
            inv.err().println("forkd: queue " + queue + " is closed and drained");
            return ExitCodes.ERROR;
        }
        for (QueueItem it : resp.getItemsList()) {
            Items.write(inv.out(), it.getData().toByteArray(), nul);
        }
        inv.out().flush();
        if (taskDone) {
            client.queues().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .taskDone(TaskDoneRequest.newBuilder().setName(queue).setCount(resp.getItemsCount()).build());
        }
        return ExitCodes.OK;
    }

    private int follow(ForkdClient client, Invocation inv) throws Exception {
        CompletableFuture<Long> done = new CompletableFuture<>();
        long first = limit > 0 ? Math.min(credit, limit) : credit;
        client.queuesAsync().consume(new ClientResponseObserver<ConsumeRequest, ConsumeResponse>() {
            ClientCallStreamObserver<ConsumeRequest> requests;
            long got;
            long granted = first;

            @Override
            public void beforeStart(ClientCallStreamObserver<ConsumeRequest> requests) {
                this.requests = requests;
            }

            @Override
            public void onNext(ConsumeResponse r) {
                if (r.getDeliveriesCount() == 0) {
                    return; // the closing message; the end follows
                }
                for (Delivery d : r.getDeliveriesList()) {
                    Items.write(inv.out(), d.getItem().getData().toByteArray(), nul);
                }
                inv.out().flush();
                if (inv.out().checkError()) {
                    // Nobody reads what we print: ack nothing, so it all goes back to the queue.
                    requests.cancel("stdout is closed", null);
                    done.completeExceptionally(new CliFailure("stdout is closed; unprinted items went back to the queue",
                            ExitCodes.ERROR));
                    return;
                }
                got += r.getDeliveriesCount();
                long more = r.getDeliveriesCount();
                if (limit > 0) {
                    more = Math.min(more, limit - granted);
                }
                granted += more;
                requests.onNext(ConsumeRequest.newBuilder()
                        .setAckThrough(r.getDeliveries(r.getDeliveriesCount() - 1).getTag())
                        .setTaskDone(taskDone).setCredit((int) more).build());
                if (limit > 0 && got >= limit) {
                    requests.onCompleted();
                }
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(got);
            }
        }).onNext(ConsumeRequest.newBuilder().setName(queue).setCredit((int) first).build());
        try {
            done.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case StatusRuntimeException s -> throw s;
                case CliFailure f -> throw f;
                default -> throw e;
            }
        }
        return ExitCodes.OK;
    }
}
