package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ProcessInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sequential spawn-and-join of {@code /bin/true} from one client: rate, and the latency from the
 * request to the exit observed. Peers: {@code subprocess.run}, {@code multiprocessing.Process}
 * (fork and spawn; these start a Python function, not a program), C {@code posix_spawn}+{@code waitpid}.
 */
final class SpawnSequential implements Scenario {

    @Override
    public String name() {
        return "spawn-seq";
    }

    @Override
    public String title() {
        return "sequential spawn+join of /bin/true, one client";
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        int n = bench.size(150, 500);
        String count = Integer.toString(n);
        // multiprocessing's spawn start method starts a whole interpreter: ~50 ms each.
        String fewer = Integer.toString(bench.size(3, 20));
        try (ForkdClient client = bench.server().connect()) {
            List<Runs.Side> sides = new ArrayList<>();
            sides.add(Runs.Side.forkd(() -> forkd(client, n)));
            if (bench.pythonMissing().isEmpty()) {
                sides.add(Runs.Side.of("subprocess.run", () -> bench.python("spawn.py", "subprocess", count)));
                sides.add(Runs.Side.of("mp.Process(fork)", () -> bench.python("spawn.py", "mp-fork", count)));
                sides.add(Runs.Side.of("mp.Process(spawn)", () -> bench.python("spawn.py", "mp-spawn", fewer)));
            } else {
                for (String p : List.of("subprocess.run", "mp.Process(fork)", "mp.Process(spawn)")) {
                    sides.add(Runs.Side.unavailable(p, bench.pythonMissing().orElseThrow()));
                }
            }
            sides.add(bench.spawnC().isPresent()
                    ? Runs.Side.of("C posix_spawn", () -> bench.c("seq", "1", Integer.toString(n * 2)))
                    : Runs.Side.unavailable("C posix_spawn", bench.spawnCMissing()));
            Runs runs = Runs.measure(name(), bench.warmUps(), bench.rounds(), bench.daemonWarmUp(), sides, bench::log);
            String s = name();
            return List.of(
                    runs.compare(s, "spawn+join", "1/s", Better.HIGHER, "spawns_per_s", "subprocess.run", "spawns_per_s", Target.ratio(0.6)),
                    runs.compare(s, "spawn+join", "1/s", Better.HIGHER, "spawns_per_s", "mp.Process(fork)", "spawns_per_s", Target.none()),
                    runs.compare(s, "spawn+join", "1/s", Better.HIGHER, "spawns_per_s", "mp.Process(spawn)", "spawns_per_s", Target.none()),
                    runs.compare(s, "spawn+join", "1/s", Better.HIGHER, "spawns_per_s", "C posix_spawn", "spawns_per_s", Target.none()),
                    runs.compare(s, "latency p50", "us", Better.LOWER, "p50_us", "subprocess.run", "p50_us", Target.none()),
                    runs.compare(s, "latency p99", "us", Better.LOWER, "p99_us", "subprocess.run", "p99_us", Target.none()),
                    runs.compare(s, "latency p50", "us", Better.LOWER, "p50_us", "C posix_spawn", "p50_us", Target.none()),
                    runs.alone(s, "of which Spawn call p50", "us", Better.LOWER, "spawn_call_p50_us", Target.none()),
                    runs.alone(s, "of which Join call p50", "us", Better.LOWER, "join_call_p50_us", Target.none()));
        }
    }

    /** {@code n} spawn+joins in a row; the records are deleted after the clock stops. */
    static Map<String, Double> forkd(ForkdClient client, int n) throws Exception {
        double[] lat = new double[n];
        double[] spawnCall = new double[n];
        List<String> ids = new ArrayList<>(n);
        var stub = client.processes();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            String id = stub.spawn(Spawns.request(Spawns.TRUE)).getProcess().getId();
            long started = System.nanoTime();
            ProcessInfo done = stub.join(JoinProcessRequest.newBuilder().setName(id).build()).getProcess();
            long end = System.nanoTime();
            if (done.getExitCode() != 0 || done.getIsAlive()) {
                throw new IllegalStateException("/bin/true ended " + done.getState() + " " + done.getFailure());
            }
            ids.add(id);
            lat[i] = (end - t) / 1e3;
            spawnCall[i] = (started - t) / 1e3;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Spawns.deleteAll(client, ids);
        double[] joinCall = new double[n];
        for (int i = 0; i < n; i++) {
            joinCall[i] = lat[i] - spawnCall[i];
        }
        return Map.of("spawns_per_s", n / seconds,
                "spawn_call_p50_us", Summary.percentile(spawnCall, 0.50),
                "join_call_p50_us", Summary.percentile(joinCall, 0.50),
                "p50_us", Summary.percentile(lat, 0.50),
                "p99_us", Summary.percentile(lat, 0.99));
    }
}
