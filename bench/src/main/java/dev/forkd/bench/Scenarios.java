package dev.forkd.bench;

import java.util.List;

/** Every scenario, in the order a run takes them. Add a new one here. */
final class Scenarios {

    private Scenarios() {}

    static List<Scenario> all() {
        return List.of(
                new SpawnSequential(),
                new SpawnBurst(),
                new SpawnClients(),
                new OutputThroughput(),
                new QueueBench(),
                new SyncThroughput(),
                new PendingScenario("pool", "tasks/s on tiny tasks, per-task and persistent workers; CPU-bound speed-up",
                        "forkd.v1.PoolService", "Pool.map, imap_unordered, ProcessPoolExecutor in peers/mp_pool.py;"
                                + " xargs -P2 and GNU parallel -j2 in peers/xargs_parallel.sh"),
                new Footprint());
    }
}
