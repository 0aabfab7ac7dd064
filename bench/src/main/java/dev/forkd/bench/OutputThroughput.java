package dev.forkd.bench;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child's stdout ({@code head -c SIZE /dev/zero}) delivered to a client watching it, from the
 * spawn request to the end of the watch. Peers: a Python parent reading the same pipe with
 * {@code readinto}; {@code head | cat > /dev/null} (the pipe itself).
 *
 * <p>forkd keeps a capped log per process and does not slow the child down for a slow watcher:
 * what the watcher could not keep up with is reported as a gap. The figure counts only bytes
 * delivered; bytes lost to gaps are reported beside it.
 */
final class OutputThroughput implements Scenario {

    static final long MB = 1_000_000L;
    static final long MIB = 1L << 20;

    @Override
    public String name() {
        return "output";
    }

    @Override
    public String title() {
        return "child stdout to a watching client";
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        long size = bench.size(256, 2048) * MIB;
        String sizeArg = Long.toString(size);
        // Fewer rounds than the rest: forkd moves 2 GiB in tens of seconds on a busy 2-core machine.
        int rounds = Math.min(bench.rounds(), bench.size(3, 5));
        try (ForkdClient client = bench.server().connect()) {
            List<Runs.Side> sides = new ArrayList<>();
            sides.add(Runs.Side.forkd(() -> forkd(client, size)));
            if (bench.pythonMissing().isEmpty()) {
                sides.add(Runs.Side.of("python readinto", () -> bench.python("output.py", "readinto", sizeArg)));
                sides.add(Runs.Side.of("cat > /dev/null", () -> bench.python("output.py", "cat", sizeArg)));
            } else {
                sides.add(Runs.Side.unavailable("python readinto", bench.pythonMissing().orElseThrow()));
                sides.add(Runs.Side.unavailable("cat > /dev/null", bench.pythonMissing().orElseThrow()));
            }
            Runs runs = Runs.measure(name(), bench.warmUps(), rounds, bench.daemonWarmUp(), sides, bench::log);
            String metric = "stdout " + size / MIB + " MiB";
            Row lost = runs.alone(name(), "lost to the cap", "MB", Better.LOWER, "lost_mb", Target.none());
            return List.of(
                    runs.compare(name(), metric, "MB/s", Better.HIGHER, "mb_per_s", "python readinto", "mb_per_s", Target.ratio(1.0)),
                    runs.compare(name(), metric, "MB/s", Better.HIGHER, "mb_per_s", "cat > /dev/null", "mb_per_s", Target.none()),
                    lost);
        }
    }

    static Map<String, Double> forkd(ForkdClient client, long size) throws Exception {
        long t0 = System.nanoTime();
        String id = client.processes().spawn(Spawns.request(
                List.of("head", "-c", Long.toString(size), "/dev/zero"))).getProcess().getId();
        long[] got = new long[2]; // delivered, lost
        CompletableFuture<Void> done = new CompletableFuture<>();
        client.processesAsync().watch(WatchProcessRequest.newBuilder().setName(id).setFollow(true).build(),
                new StreamObserver<WatchProcessResponse>() {
                    @Override
                    public void onNext(WatchProcessResponse r) {
                        switch (r.getEventCase()) {
                            case OUTPUT -> got[0] += r.getOutput().getData().size();
                            case GAP -> got[1] += r.getGap().getResumedAt() - r.getGap().getRequested();
                            default -> { }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        done.get(10, TimeUnit.MINUTES);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (got[0] + got[1] != size) {
            throw new IllegalStateException("watched " + got[0] + " bytes and " + got[1] + " lost, of " + size);
        }
        Spawns.deleteAll(client, List.of(id));
        return Map.of("mb_per_s", got[0] / (double) MB / seconds, "lost_mb", got[1] / (double) MB);
    }
}
