package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A durable queue over streams (Produce, Consume with credit and acks; every batch answered once in
 * the server's SQLite store) against a Redis list with {@code appendfsync everysec} (pipelined
 * variadic LPUSH, pipelined BRPOP), and against forkd's in-memory queue in the same run: what
 * durability costs. Same items ({@code item-N}), same batches (1,000) and window (8 batches) on both.
 */
final class DurableQueueBench implements Scenario {

    private static final int BATCH = 1_000;
    private static final int WINDOW = 8;

    @Override
    public String name() {
        return "queue-durable";
    }

    @Override
    public String title() {
        return "durable queue items/s over streams vs a Redis list (AOF everysec) and the in-memory queue";
    }

    @Override
    public Optional<String> unavailable(Bench bench) throws Exception {
        return Services.missing(bench, "forkd.v1.QueueService");
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        int n = bench.size(100_000, 500_000);
        Optional<String> redisMissing = RedisPeer.missing();
        try (ForkdClient prod = bench.server().connect(); ForkdClient cons = bench.server().connect();
                RedisPeer redis = redisMissing.isEmpty() ? RedisPeer.start(bench.work()) : null) {
            List<Runs.Side> sides = List.of(
                    Runs.Side.forkd(() -> Map.of("durable_items_per_s", QueueBench.streamRate(prod, cons, n, true))),
                    new Runs.Side("forkd in-memory", Optional.of(() -> Map.of("memory_items_per_s",
                            QueueBench.streamRate(prod, cons, n, false))), "", true),
                    redis != null
                            ? Runs.Side.of("redis", () -> Map.of("redis_items_per_s", redis.list(n, BATCH, WINDOW)))
                            : Runs.Side.unavailable("redis", redisMissing.orElseThrow()));
            Runs runs = Runs.measure(name(), bench.warmUps(), bench.rounds(), bench.daemonWarmUp(), sides, bench::log);
            String s = name();
            return List.of(
                    runs.compare(s, "durable stream", "items/s", Better.HIGHER, "durable_items_per_s", "redis",
                            "redis_items_per_s", Target.ratio(1.0)),
                    runs.compare(s, "durable stream", "items/s", Better.HIGHER, "durable_items_per_s",
                            "forkd in-memory", "memory_items_per_s", Target.ratio(0.5)));
        }
    }
}
