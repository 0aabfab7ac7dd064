package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ProcessInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * 200 spawns of {@code /bin/true} at once from one client, wall time until all have been joined.
 * Peers: 200 {@code subprocess.Popen} then {@code wait()} each; C 200 {@code posix_spawn} then
 * {@code waitpid} each.
 */
final class SpawnBurst implements Scenario {

    static final int BURST = 200;

    @Override
    public String name() {
        return "spawn-burst";
    }

    @Override
    public String title() {
        return BURST + " concurrent spawns of /bin/true, wall time until all joined";
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        String n = Integer.toString(BURST);
        try (ForkdClient client = bench.server().connect()) {
            List<Runs.Side> sides = new ArrayList<>();
            sides.add(Runs.Side.forkd(() -> forkd(client)));
            sides.add(bench.pythonMissing().isEmpty()
                    ? Runs.Side.of("subprocess.Popen", () -> bench.python("spawn.py", "popen-burst", n))
                    : Runs.Side.unavailable("subprocess.Popen", bench.pythonMissing().orElseThrow()));
            sides.add(bench.spawnC().isPresent()
                    ? Runs.Side.of("C posix_spawn", () -> bench.c("burst", "1", n))
                    : Runs.Side.unavailable("C posix_spawn", bench.spawnCMissing()));
            Runs runs = Runs.measure(name(), bench.warmUps(), bench.rounds(), bench.daemonWarmUp(), sides, bench::log);
            return List.of(
                    runs.compare(name(), BURST + " at once", "ms", Better.LOWER, "wall_ms", "subprocess.Popen", "wall_ms", Target.none()),
                    runs.compare(name(), BURST + " at once", "ms", Better.LOWER, "wall_ms", "C posix_spawn", "wall_ms", Target.none()));
        }
    }

    static Map<String, Double> forkd(ForkdClient client) throws Exception {
        long t0 = System.nanoTime();
        List<CompletableFuture<ProcessInfo>> joined = new ArrayList<>(BURST);
        for (int i = 0; i < BURST; i++) {
            joined.add(Spawns.spawnAsync(client, Spawns.request(Spawns.TRUE))
                    .thenCompose(p -> Spawns.joinAsync(client, p.getId())));
        }
        CompletableFuture.allOf(joined.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
        double ms = (System.nanoTime() - t0) / 1e6;
        List<String> ids = new ArrayList<>();
        for (CompletableFuture<ProcessInfo> f : joined) {
            ProcessInfo p = f.get();
            if (p.getExitCode() != 0) {
                throw new IllegalStateException("a /bin/true ended " + p.getState() + " " + p.getFailure());
            }
            ids.add(p.getId());
        }
        Spawns.deleteAll(client, ids);
        return Map.of("wall_ms", ms);
    }
}
