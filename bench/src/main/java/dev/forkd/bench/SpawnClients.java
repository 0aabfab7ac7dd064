package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Spawn throughput with several clients at once (each its own connection and thread, each doing
 * spawn+join of {@code /bin/true} in a row), against C {@code posix_spawn}+{@code waitpid} on 2
 * threads — the machine's limit on 2 cores.
 */
final class SpawnClients implements Scenario {

    static final int CLIENTS = 4;

    @Override
    public String name() {
        return "spawn-clients";
    }

    @Override
    public String title() {
        return CLIENTS + " clients at once, spawn+join of /bin/true";
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        int perClient = bench.size(60, 250);
        List<ForkdClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(bench.server().connect());
            }
            List<Runs.Side> sides = new ArrayList<>();
            sides.add(Runs.Side.forkd(() -> forkd(clients, perClient)));
            String total = Integer.toString(perClient * CLIENTS * 2);
            if (bench.spawnC().isPresent()) {
                sides.add(Runs.Side.of("C posix_spawn x2 threads", () -> bench.c("seq", "2", total)));
                sides.add(Runs.Side.of("C posix_spawn x1 thread", () -> bench.c("seq", "1", total)));
            } else {
                sides.add(Runs.Side.unavailable("C posix_spawn x2 threads", bench.spawnCMissing()));
                sides.add(Runs.Side.unavailable("C posix_spawn x1 thread", bench.spawnCMissing()));
            }
            Runs runs = Runs.measure(name(), bench.warmUps(), bench.rounds(), bench.daemonWarmUp(), sides, bench::log);
            return List.of(
                    runs.compare(name(), CLIENTS + " clients", "1/s", Better.HIGHER, "spawns_per_s",
                            "C posix_spawn x2 threads", "spawns_per_s", Target.ratio(0.8)),
                    runs.compare(name(), CLIENTS + " clients", "1/s", Better.HIGHER, "spawns_per_s",
                            "C posix_spawn x1 thread", "spawns_per_s", Target.none()));
        } finally {
            clients.forEach(ForkdClient::close);
        }
    }

    static Map<String, Double> forkd(List<ForkdClient> clients, int perClient) throws Exception {
        List<CompletableFuture<List<String>>> done = new ArrayList<>();
        long t0 = System.nanoTime();
        for (ForkdClient c : clients) {
            CompletableFuture<List<String>> f = new CompletableFuture<>();
            Thread.ofPlatform().name("bench-client").start(() -> {
                try {
                    List<String> ids = new ArrayList<>(perClient);
                    for (int i = 0; i < perClient; i++) {
                        ids.add(Spawns.spawnAndJoin(c, Spawns.TRUE));
                    }
                    f.complete(ids);
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
            done.add(f);
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (int i = 0; i < clients.size(); i++) {
            Spawns.deleteAll(clients.get(i), done.get(i).get());
        }
        return Map.of("spawns_per_s", clients.size() * perClient / seconds);
    }
}
