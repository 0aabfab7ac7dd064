package dev.forkd.cli;

import com.google.protobuf.ByteString;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ProduceRequest;
import dev.forkd.v1.ProduceResponse;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.PutResponse;
import dev.forkd.v1.QueueItem;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "put", mixinStandardHelpOptions = true,
        description = {"Put items: the ITEM arguments, else stdin, one per line (or NUL-terminated with --null).",
            "Blocks while the queue is full; with --timeout exits 124 if there is no room in time",
            "(arguments are put all or none; stdin batch by batch). Stdin without --timeout streams (Produce)."})
final class QueuePutCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    /** Batches outstanding on a Produce stream: enough to keep it busy, few enough to bound memory. */
    private static final int WINDOW = 4;

    @Parameters(index = "0", paramLabel = "QUEUE", description = "Queue id or name.")
    String queue;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "ITEM", description = "Items to put (default: stdin).")
    List<String> items = List.of();

    @Option(names = {"-0", "--null"}, description = "Items on stdin end with NUL, not newline.")
    boolean nul;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Give up if there is no room this long (0: do not wait); default: wait.")
    Duration timeout;

    @Option(names = "--content-type", paramLabel = "TYPE", description = "Content type of the items.")
    String contentType = "";

    @Option(names = "--batch", paramLabel = "N", description = "Items per batch from stdin (default ${DEFAULT-VALUE}).")
    int batch = 1000;

    @Override
    int work(ForkdClient client, Invocation inv) throws Exception {
        if (batch < 1) {
            throw new CliFailure("--batch must be at least 1", ExitCodes.USAGE);
        }
        if (!items.isEmpty()) {
            PutRequest.Builder r = PutRequest.newBuilder().setName(queue);
            items.forEach(s -> r.addItems(item(s.getBytes(StandardCharsets.UTF_8))));
            return unary(client, inv, r, 0);
        }
        Items in = new Items(inv.in(), nul);
        return timeout != null ? unaryFromStdin(client, inv, in) : produce(client, in);
    }

    private QueueItem item(byte[] data) {
        return QueueItem.newBuilder().setData(ByteString.copyFrom(data)).setContentType(contentType).build();
    }

    private int unary(ForkdClient client, Invocation inv, PutRequest.Builder r, long before) {
        Optional<Duration> t = Optional.ofNullable(timeout);
        t.ifPresent(d -> r.setTimeout(proto(d)));
        PutResponse resp = client.queues().withDeadlineAfter(deadlineMillis(t), TimeUnit.MILLISECONDS).put(r.build());
        if (resp.getTimedOut()) {
            inv.err().println("forkd: queue " + queue + " is full: no room for " + r.getItemsCount()
                    + " item(s) within " + timeout + (before > 0 ? " (" + before + " put before)" : ""));
            return ExitCodes.TIMED_OUT;
        }
        return ExitCodes.OK;
    }

    private int unaryFromStdin(ForkdClient client, Invocation inv, Items in) throws Exception {
        long put = 0;
        PutRequest.Builder r = PutRequest.newBuilder().setName(queue);
        for (Optional<byte[]> next = in.next(); next.isPresent(); next = in.next()) {
            r.addItems(item(next.get()));
            if (r.getItemsCount() == batch) {
                if (unary(client, inv, r, put) != ExitCodes.OK) {
                    return ExitCodes.TIMED_OUT;
                }
                put += r.getItemsCount();
                r.clearItems();
            }
        }
        return r.getItemsCount() == 0 ? ExitCodes.OK : unary(client, inv, r, put);
    }

    private int produce(ForkdClient client, Items in) throws Exception {
        CompletableFuture<Long> done = new CompletableFuture<>();
        Semaphore window = new Semaphore(WINDOW);
        AtomicLong acked = new AtomicLong();
        StreamObserver<ProduceRequest> requests = client.queuesAsync().produce(new StreamObserver<>() {
            @Override
            public void onNext(ProduceResponse r) {
                acked.set(r.getPut());
                window.release();
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
                window.release(WINDOW);
            }

            @Override
            public void onCompleted() {
                done.complete(acked.get());
            }
        });
        ProduceRequest.Builder r = ProduceRequest.newBuilder().setName(queue);
        for (Optional<byte[]> next = in.next(); next.isPresent() && !done.isDone(); next = in.next()) {
            r.addItems(item(next.get()));
            if (r.getItemsCount() == batch) {
                window.acquire();
                requests.onNext(r.build());
                r.clearItems();
            }
        }
        if (r.getItemsCount() > 0 && !done.isDone()) {
            window.acquire();
            requests.onNext(r.build());
        }
        requests.onCompleted();
        try {
            done.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw s;
            }
            throw e;
        }
        return ExitCodes.OK;
    }
}
