package dev.forkd.bench;

import com.google.protobuf.ByteString;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapResponse;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.ResultOrder;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Pools on 2 workers, each through one Map stream with an ephemeral pool (its start-up inside the
 * timing, as the peers' pool start-up is in theirs): tiny per-task commands ({@code true ITEM})
 * against {@code xargs -P2} and GNU {@code parallel -j2}; trivial items through persistent Python
 * workers against {@code Pool.map}, {@code imap_unordered(chunksize=1)} and
 * {@code ProcessPoolExecutor.map}; and the speed-up of a CPU-bound Python loop on 2 workers over 1,
 * against {@code Pool(2).map} over a serial loop ({@code peers/mp_pool.py}, {@code peers/xargs_parallel.sh}).
 */
final class PoolBench implements Scenario {

    private static final String PY_ECHO = "import sys\nfor l in sys.stdin:\n    sys.stdout.write(l)\n    sys.stdout.flush()\n";
    private static final String PY_BURN = "import sys\nfor l in sys.stdin:\n    s = 0\n    for i in range(int(l)):\n"
            + "        s += i * i\n    print(s, flush=True)\n";

    @Override
    public String name() {
        return "pool";
    }

    @Override
    public String title() {
        return "tasks/s on tiny tasks, per-task and persistent workers; CPU-bound speed-up";
    }

    @Override
    public Optional<String> unavailable(Bench bench) throws Exception {
        return Services.missing(bench, "forkd.v1.PoolService");
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        int perTask = bench.size(600, 5_000);
        int persistent = bench.size(50_000, 1_000_000);
        int cpuTasks = 8;
        int cpuLoop = bench.size(600_000, 3_000_000);
        String python = bench.pythonMissing().isEmpty() ? "python3" : "";
        try (ForkdClient c = bench.server().connect()) {
            List<Runs.Side> sides = new ArrayList<>();
            sides.add(Runs.Side.forkd(() -> {
                Map<String, Double> f = new HashMap<>();
                f.put("per_task_tasks_per_s", perTask / map(c, pool(2, WorkerKind.WORKER_KIND_PER_TASK, "true", "{}"),
                        perTask, i -> Integer.toString(i), 1));
                if (!python.isEmpty()) {
                    f.put("persistent_items_per_s", persistent / map(c,
                            pool(2, WorkerKind.WORKER_KIND_PERSISTENT, python, "-c", PY_ECHO), persistent,
                            i -> Integer.toString(i), 64));
                    double one = map(c, pool(1, WorkerKind.WORKER_KIND_PERSISTENT, python, "-c", PY_BURN), cpuTasks,
                            i -> Integer.toString(cpuLoop), 1);
                    double two = map(c, pool(2, WorkerKind.WORKER_KIND_PERSISTENT, python, "-c", PY_BURN), cpuTasks,
                            i -> Integer.toString(cpuLoop), 1);
                    f.put("cpu_speedup", one / two);
                }
                return f;
            }));
            sides.add(Runs.Side.of("xargs", () -> bench.shell("xargs_parallel.sh", "xargs", Integer.toString(perTask))));
            sides.add(bench.parallelMissing().isEmpty()
                    ? Runs.Side.of("parallel", () -> bench.shell("xargs_parallel.sh", "parallel", Integer.toString(perTask)))
                    : Runs.Side.unavailable("parallel", bench.parallelMissing().orElseThrow()));
            sides.add(python.isEmpty()
                    ? Runs.Side.unavailable("multiprocessing", bench.pythonMissing().orElseThrow())
                    : Runs.Side.of("multiprocessing", () -> bench.python("mp_pool.py", Integer.toString(persistent),
                            Integer.toString(cpuTasks), Integer.toString(cpuLoop))));
            Runs runs = Runs.measure(name(), bench.warmUps(), bench.rounds(), bench.daemonWarmUp(), sides, bench::log);
            String s = name();
            return List.of(
                    runs.compare(s, "per-task vs xargs -P2", "tasks/s", Better.HIGHER, "per_task_tasks_per_s",
                            "xargs", "tasks_per_s", Target.ratio(0.9)),
                    runs.compare(s, "per-task vs parallel -j2", "tasks/s", Better.HIGHER, "per_task_tasks_per_s",
                            "parallel", "tasks_per_s", Target.ratio(5)),
                    runs.compare(s, "persistent vs imap_unordered(1)", "items/s", Better.HIGHER,
                            "persistent_items_per_s", "multiprocessing", "mp_imap_unordered_per_s", Target.ratio(10)),
                    runs.compare(s, "persistent vs Pool.map", "items/s", Better.HIGHER, "persistent_items_per_s",
                            "multiprocessing", "mp_map_per_s", Target.ratio(0.3)),
                    runs.compare(s, "persistent vs ProcessPoolExecutor.map", "items/s", Better.HIGHER,
                            "persistent_items_per_s", "multiprocessing", "ppe_map_per_s", Target.none()),
                    runs.compare(s, "CPU-bound speed-up, 2 workers", "x", Better.HIGHER, "cpu_speedup",
                            "multiprocessing", "mp_cpu_speedup", Target.none()));
        }
    }

    private static CreatePoolRequest pool(int processes, WorkerKind kind, String... argv) {
        return CreatePoolRequest.newBuilder().setProcesses(processes)
                .setWorker(WorkerSpec.newBuilder().setKind(kind).addAllArgv(List.of(argv))).build();
    }

    /** One Map over an ephemeral pool; answers the seconds it took, pool start included. */
    static double map(ForkdClient c, CreatePoolRequest pool, int n, java.util.function.IntFunction<String> item,
            int chunksize) throws Exception {
        CompletableFuture<Long> done = new CompletableFuture<>();
        long t0 = System.nanoTime();
        c.poolsAsync().map(new ClientResponseObserver<MapRequest, MapResponse>() {
            ClientCallStreamObserver<MapRequest> req;
            int next;
            long got;
            boolean closed;

            @Override
            public void beforeStart(ClientCallStreamObserver<MapRequest> r) {
                req = r;
                r.setOnReadyHandler(this::send);
            }

            private synchronized void send() {
                if (next == 0 && !closed) {
                    req.onNext(MapRequest.newBuilder().setStart(MapStart.newBuilder().setCreate(pool)
                            .setOrder(ResultOrder.RESULT_ORDER_COMPLETION).setChunksize(chunksize)).build());
                }
                while (req.isReady() && !closed) {
                    MapRequest.Builder b = MapRequest.newBuilder();
                    while (b.getItemsCount() < 1000 && next < n) {
                        b.addItems(TaskInput.newBuilder().setItem(ByteString.copyFromUtf8(item.apply(next++))));
                    }
                    if (b.getItemsCount() > 0) {
                        req.onNext(b.build());
                    }
                    if (next == n) {
                        req.onCompleted();
                        closed = true;
                    }
                }
            }

            @Override
            public void onNext(MapResponse r) {
                for (var t : r.getResultsList()) {
                    if (t.hasFailure()) {
                        done.completeExceptionally(new AssertionError("task " + t.getIndex() + " failed: " + t.getFailure()));
                    }
                }
                got += r.getResultsCount();
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(got);
            }
        });
        long got = done.get(10, TimeUnit.MINUTES);
        if (got != n) {
            throw new AssertionError("got " + got + " results of " + n);
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
