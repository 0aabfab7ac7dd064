package dev.forkd.bench;

import com.google.protobuf.ByteString;
import dev.forkd.client.ForkdClient;
import dev.forkd.server.config.ListenAddress;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.DeleteQueueRequest;
import dev.forkd.v1.ProduceRequest;
import dev.forkd.v1.ProduceResponse;
import dev.forkd.v1.PutItemsRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.TakeItemsRequest;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Queue throughput (Produce -> Consume streams; unary Put + Take) and ping-pong round trip against
 * a running forkd server. One JSON line per figure. Producer and consumer are separate channels
 * (separate connections), in this JVM.
 *
 * <pre>java -cp ... dev.forkd.bench.QueueBench unix:/path/to/s.sock [items] [pings]</pre>
 */
public final class QueueBench {

    public static void main(String[] args) throws Exception {
        ListenAddress address = new ListenAddress.Unix(Path.of(args[0].replaceFirst("^unix:", "")));
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int pings = args.length > 2 ? Integer.parseInt(args[2]) : 5_000;
        try (ForkdClient prod = ForkdClient.connect(address, Optional.empty(), Optional.empty());
                ForkdClient cons = ForkdClient.connect(address, Optional.empty(), Optional.empty())) {
            stream(prod, cons, 200_000); // warm-up
            stream(prod, cons, n);
            unary(prod, cons, 20_000); // warm-up
            unary(prod, cons, 100_000);
            pingPong(prod, cons, 1_000);
            pingPong(prod, cons, pings);
        }
    }

    private static void emit(String figure, double value, String unit) {
        System.out.printf("{\"figure\":\"%s\",\"value\":%.1f,\"unit\":\"%s\",\"peer\":\"forkd\"}%n", figure, value, unit);
    }

    private static String fresh(ForkdClient c, String prefix, long maxsize) {
        return c.queues().create(CreateQueueRequest.newBuilder().setName(prefix + "-" + System.nanoTime())
                .setMaxsize(maxsize).build()).getQueue().getId();
    }

    static void stream(ForkdClient prod, ForkdClient cons, int n) throws Exception {
        String q = fresh(prod, "bench-stream", 100_000);
        CompletableFuture<Long> consumed = new CompletableFuture<>();
        long t0 = System.nanoTime();
        cons.queuesAsync().consume(new ClientResponseObserver<ConsumeRequest, ConsumeResponse>() {
            ClientCallStreamObserver<ConsumeRequest> req;
            long got;

            @Override
            public void beforeStart(ClientCallStreamObserver<ConsumeRequest> r) {
                req = r;
            }

            @Override
            public void onNext(ConsumeResponse r) {
                int k = r.getDeliveriesCount();
                if (k == 0) {
                    return;
                }
                got += k;
                req.onNext(ConsumeRequest.newBuilder().setAckThrough(r.getDeliveries(k - 1).getTag()).setCredit(k).build());
                if (got == n) {
                    req.onCompleted();
                }
            }

            @Override
            public void onError(Throwable t) {
                consumed.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                consumed.complete(got);
            }
        }).onNext(ConsumeRequest.newBuilder().setQueue(q).setCredit(10_000).build());
        Semaphore window = new Semaphore(8);
        CompletableFuture<Void> produced = new CompletableFuture<>();
        StreamObserver<ProduceRequest> p = prod.queuesAsync().produce(new StreamObserver<ProduceResponse>() {
            @Override
            public void onNext(ProduceResponse r) {
                window.release();
            }

            @Override
            public void onError(Throwable t) {
                produced.completeExceptionally(t);
                window.release(1000);
            }

            @Override
            public void onCompleted() {
                produced.complete(null);
            }
        });
        int batch = 1000;
        for (int i = 0; i < n; i += batch) {
            ProduceRequest.Builder b = ProduceRequest.newBuilder().setQueue(q);
            for (int j = i; j < Math.min(n, i + batch); j++) {
                b.addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("item-" + j)));
            }
            window.acquire();
            p.onNext(b.build());
        }
        p.onCompleted();
        produced.get(5, TimeUnit.MINUTES);
        long got = consumed.get(5, TimeUnit.MINUTES);
        double s = (System.nanoTime() - t0) / 1e9;
        if (got != n) {
            throw new AssertionError("consumed " + got + " of " + n);
        }
        emit("forkd_queue_stream_items_per_s", n / s, "items/s");
        prod.queues().delete(DeleteQueueRequest.newBuilder().setQueue(q).build());
    }

    static void unary(ForkdClient prod, ForkdClient cons, int n) throws Exception {
        String q = fresh(prod, "bench-unary", 100_000);
        long t0 = System.nanoTime();
        Thread consumer = Thread.ofPlatform().start(() -> {
            var stub = cons.queues();
            for (int i = 0; i < n; i++) {
                stub.take(TakeItemsRequest.newBuilder().setQueue(q).build());
            }
        });
        var stub = prod.queues();
        for (int i = 0; i < n; i++) {
            stub.put(PutItemsRequest.newBuilder().setQueue(q)
                    .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("item-" + i))).build());
        }
        consumer.join(TimeUnit.MINUTES.toMillis(5));
        double s = (System.nanoTime() - t0) / 1e9;
        // Each item is one Put and one Take: ops = 2n.
        emit("forkd_queue_unary_ops_per_s", 2.0 * n / s, "ops/s");
        emit("forkd_queue_unary_items_per_s", n / s, "items/s");
        prod.queues().delete(DeleteQueueRequest.newBuilder().setQueue(q).build());
    }

    /** Client A puts to q1; client B (another connection, its own thread) takes it and puts it to q2; A takes it. */
    static void pingPong(ForkdClient a, ForkdClient b, int pings) throws Exception {
        String q1 = fresh(a, "bench-ping", 10);
        String q2 = fresh(a, "bench-pong", 10);
        Thread echo = Thread.ofPlatform().start(() -> {
            var stub = b.queues();
            for (int i = 0; i < pings; i++) {
                var item = stub.take(TakeItemsRequest.newBuilder().setQueue(q1).build()).getItems(0);
                stub.put(PutItemsRequest.newBuilder().setQueue(q2).addItems(item).build());
            }
        });
        var stub = a.queues();
        long[] rtt = new long[pings];
        QueueItem ping = QueueItem.newBuilder().setData(ByteString.copyFromUtf8("ping")).build();
        for (int i = 0; i < pings; i++) {
            long t = System.nanoTime();
            stub.put(PutItemsRequest.newBuilder().setQueue(q1).addItems(ping).build());
            stub.take(TakeItemsRequest.newBuilder().setQueue(q2).build());
            rtt[i] = System.nanoTime() - t;
        }
        echo.join(TimeUnit.MINUTES.toMillis(1));
        Arrays.sort(rtt);
        emit("forkd_queue_roundtrip_p50_us", rtt[pings / 2] / 1e3, "us");
        emit("forkd_queue_roundtrip_p99_us", rtt[(int) (pings * 0.99)] / 1e3, "us");
        a.queues().delete(DeleteQueueRequest.newBuilder().setQueue(q1).build());
        a.queues().delete(DeleteQueueRequest.newBuilder().setQueue(q2).build());
    }
}
