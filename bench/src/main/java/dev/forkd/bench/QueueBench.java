package dev.forkd.bench;

import com.google.protobuf.ByteString;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ConsumeRequest;
import dev.forkd.v1.ConsumeResponse;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.DeleteQueueRequest;
import dev.forkd.v1.ProduceRequest;
import dev.forkd.v1.ProduceResponse;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.TakeRequest;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Queues: items/s producer -> consumer on streams (Produce, Consume with credit and acks) and with
 * one unary Put and one Take per item, and the round trip of a ping through two queues and an echo
 * client. Producer and consumer are separate connections (in the harness's JVM). Peers
 * ({@code peers/mp_queue.py}): {@code multiprocessing.Queue} between two processes, and ping-pong
 * over {@code multiprocessing.Pipe} and over two Queues.
 */
final class QueueBench implements Scenario {

    @Override
    public String name() {
        return "queue";
    }

    @Override
    public String title() {
        return "queue items/s (stream, unary) and ping-pong round trip";
    }

    @Override
    public Optional<String> unavailable(Bench bench) throws Exception {
        return Services.missing(bench, "forkd.v1.QueueService");
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        int n = bench.size(100_000, 500_000);
        int unary = bench.size(3_000, 10_000);
        int pings = bench.size(500, 2_000);
        try (ForkdClient prod = bench.server().connect(); ForkdClient cons = bench.server().connect()) {
            List<Runs.Side> sides = new ArrayList<>();
            sides.add(Runs.Side.forkd(() -> {
                Map<String, Double> f = new HashMap<>();
                f.putAll(stream(prod, cons, n));
                f.putAll(unary(prod, cons, unary));
                f.putAll(pingPong(prod, cons, pings));
                return f;
            }));
            sides.add(bench.pythonMissing().isEmpty()
                    ? Runs.Side.of("multiprocessing", () -> bench.python("mp_queue.py",
                            Integer.toString(n), Integer.toString(pings)))
                    : Runs.Side.unavailable("multiprocessing", bench.pythonMissing().orElseThrow()));
            Runs runs = Runs.measure(name(), bench.warmUps(), bench.rounds(), bench.daemonWarmUp(), sides, bench::log);
            String s = name();
            return List.of(
                    label(runs.compare(s, "stream", "items/s", Better.HIGHER, "stream_items_per_s",
                            "multiprocessing", "mp_queue_items_per_s", Target.ratio(1.5)), "mp.Queue"),
                    label(runs.compare(s, "unary put+take", "items/s", Better.HIGHER, "unary_items_per_s",
                            "multiprocessing", "mp_queue_items_per_s", Target.none()), "mp.Queue"),
                    runs.alone(s, "unary", "ops/s", Better.HIGHER, "unary_ops_per_s", Target.limit(20_000)),
                    label(runs.compare(s, "ping-pong p50", "us", Better.LOWER, "roundtrip_p50_us",
                            "multiprocessing", "mp_pipe_roundtrip_p50_us", Target.none()), "mp.Pipe"),
                    label(runs.compare(s, "ping-pong p99", "us", Better.LOWER, "roundtrip_p99_us",
                            "multiprocessing", "mp_pipe_roundtrip_p99_us", Target.limit(1_000)), "mp.Pipe"),
                    label(runs.compare(s, "ping-pong p50", "us", Better.LOWER, "roundtrip_p50_us",
                            "multiprocessing", "mp_queue_roundtrip_p50_us", Target.none()), "mp.Queue x2"));
        }
    }

    private static Row label(Row r, String peer) {
        return new Row(r.scenario(), r.metric(), r.unit(), r.better(), r.forkd(), peer, r.peerFigure(),
                r.target(), r.note());
    }

    private static String fresh(ForkdClient c, String prefix, long maxsize) {
        return fresh(c, prefix, maxsize, false);
    }

    private static String fresh(ForkdClient c, String prefix, long maxsize, boolean durable) {
        return c.queues().create(CreateQueueRequest.newBuilder().setName(prefix + "-" + System.nanoTime())
                .setMaxsize(maxsize).setDurable(durable).build()).getQueue().getId();
    }

    static Map<String, Double> stream(ForkdClient prod, ForkdClient cons, int n) throws Exception {
        return Map.of("stream_items_per_s", streamRate(prod, cons, n, false));
    }

    /**
     * Items/s of {@code n} items through a fresh queue ({@code durable} or in memory): batches of 1,000
     * on one Produce stream, 8 unacked; one Consume stream with 10,000 credit acking each delivery.
     */
    static double streamRate(ForkdClient prod, ForkdClient cons, int n, boolean durable) throws Exception {
        String q = fresh(prod, durable ? "bench-durable" : "bench-stream", 100_000, durable);
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
        }).onNext(ConsumeRequest.newBuilder().setName(q).setCredit(10_000).build());
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
            ProduceRequest.Builder b = ProduceRequest.newBuilder().setName(q);
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
        prod.queues().delete(DeleteQueueRequest.newBuilder().setName(q).build());
        return n / s;
    }

    static Map<String, Double> unary(ForkdClient prod, ForkdClient cons, int n) throws Exception {
        String q = fresh(prod, "bench-unary", 100_000);
        long t0 = System.nanoTime();
        Thread consumer = Thread.ofPlatform().start(() -> {
            var stub = cons.queues();
            for (int i = 0; i < n; i++) {
                stub.take(TakeRequest.newBuilder().setName(q).build());
            }
        });
        var stub = prod.queues();
        for (int i = 0; i < n; i++) {
            stub.put(PutRequest.newBuilder().setName(q)
                    .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("item-" + i))).build());
        }
        consumer.join(TimeUnit.MINUTES.toMillis(5));
        double s = (System.nanoTime() - t0) / 1e9;
        prod.queues().delete(DeleteQueueRequest.newBuilder().setName(q).build());
        // Each item is one Put and one Take: ops = 2n.
        return Map.of("unary_ops_per_s", 2.0 * n / s, "unary_items_per_s", n / s);
    }

    /** Client A puts to q1; client B (another connection, its own thread) takes it and puts it to q2; A takes it. */
    static Map<String, Double> pingPong(ForkdClient a, ForkdClient b, int pings) throws Exception {
        String q1 = fresh(a, "bench-ping", 10);
        String q2 = fresh(a, "bench-pong", 10);
        Thread echo = Thread.ofPlatform().start(() -> {
            var stub = b.queues();
            for (int i = 0; i < pings; i++) {
                var item = stub.take(TakeRequest.newBuilder().setName(q1).build()).getItems(0);
                stub.put(PutRequest.newBuilder().setName(q2).addItems(item).build());
            }
        });
        var stub = a.queues();
        double[] rtt = new double[pings];
        QueueItem ping = QueueItem.newBuilder().setData(ByteString.copyFromUtf8("ping")).build();
        for (int i = 0; i < pings; i++) {
            long t = System.nanoTime();
            stub.put(PutRequest.newBuilder().setName(q1).addItems(ping).build());
            stub.take(TakeRequest.newBuilder().setName(q2).build());
            rtt[i] = (System.nanoTime() - t) / 1e3;
        }
        echo.join(TimeUnit.MINUTES.toMillis(1));
        a.queues().delete(DeleteQueueRequest.newBuilder().setName(q1).build());
        a.queues().delete(DeleteQueueRequest.newBuilder().setName(q2).build());
        return Map.of("roundtrip_p50_us", Summary.percentile(rtt, 0.50),
                "roundtrip_p99_us", Summary.percentile(rtt, 0.99));
    }
}
