package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import java.util.List;
import java.util.Optional;

/**
 * Sequential spawn+join of {@code /bin/true} with the state store on (the default: every process
 * record written at each state change, grouped into few transactions) against a server with
 * {@code --state-dir none}: what durability costs the spawn path (target: at least 0.9x).
 */
final class SpawnStore implements Scenario {

    static final String STORE_OFF = "forkd --state-dir none";

    @Override
    public String name() {
        return "spawn-store";
    }

    @Override
    public String title() {
        return "sequential spawn+join of /bin/true, state store on vs off";
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        int n = bench.size(150, 500);
        try (ServerUnderTest off = bench.freshServer(2, List.of("--state-dir", "none"));
                ForkdClient offClient = off.connect();
                ForkdClient onClient = bench.server().connect()) {
            // As warm as the shared server, so that JIT state is not what is compared.
            bench.log("spawn-store: warm-up of the store-off server: " + off.warmUp(bench.daemonWarmUp()) + " spawns");
            List<Runs.Side> sides = List.of(
                    Runs.Side.forkd(() -> SpawnSequential.forkd(onClient, n)),
                    new Runs.Side(STORE_OFF, Optional.of(() -> SpawnSequential.forkd(offClient, n)), "", true));
            Runs runs = Runs.measure(name(), bench.warmUps(), bench.rounds(), bench.daemonWarmUp(), sides, bench::log);
            return List.of(runs.compare(name(), "spawn+join, store on", "1/s", Better.HIGHER, "spawns_per_s",
                    STORE_OFF, "spawns_per_s", Target.ratio(0.9)));
        }
    }
}
