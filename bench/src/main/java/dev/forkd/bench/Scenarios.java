package dev.forkd.bench;

import java.util.List;

/** Every scenario, in the order a run takes them. Add a new one here. */
final class Scenarios {

    private Scenarios() {}

    static List<Scenario> all() {
        return List.of(
                new SpawnSequential(),
                new SpawnStore(),
                new SpawnBurst(),
                new SpawnClients(),
                new OutputThroughput(),
                new OutputStore(),
                new QueueBench(),
                new DurableQueueBench(),
                new SyncThroughput(),
                new PoolBench(),
                new CliLatency(),
                new Footprint());
    }
}
