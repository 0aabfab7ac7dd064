package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import java.util.List;
import java.util.Optional;

/**
 * The {@code output} scenario (a child's stdout to a watching client) with the state store on, so
 * that every chunk is also written to the process's output files, against a server with
 * {@code --state-dir none} in the same run: what keeping output across restarts costs.
 */
final class OutputStore implements Scenario {

    @Override
    public String name() {
        return "output-store";
    }

    @Override
    public String title() {
        return "child stdout to a watching client, output files on vs off";
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        long size = bench.size(256, 1024) * OutputThroughput.MIB;
        int rounds = Math.min(bench.rounds(), bench.size(3, 5));
        try (ServerUnderTest off = bench.freshServer(2, List.of("--state-dir", "none"));
                ForkdClient offClient = off.connect();
                ForkdClient onClient = bench.server().connect()) {
            bench.log("output-store: warm-up of the store-off server: " + off.warmUp(bench.daemonWarmUp()) + " spawns");
            List<Runs.Side> sides = List.of(
                    Runs.Side.forkd(() -> OutputThroughput.forkd(onClient, size)),
                    new Runs.Side(SpawnStore.STORE_OFF, Optional.of(() -> OutputThroughput.forkd(offClient, size)), "", true));
            Runs runs = Runs.measure(name(), bench.warmUps(), rounds, bench.daemonWarmUp(), sides, bench::log);
            String metric = "stdout " + size / OutputThroughput.MIB + " MiB, files on";
            return List.of(runs.compare(name(), metric, "MB/s", Better.HIGHER, "mb_per_s",
                    SpawnStore.STORE_OFF, "mb_per_s", Target.none()));
        }
    }
}
