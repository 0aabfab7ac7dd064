package dev.forkd.server.chaos;

import com.google.protobuf.ByteString;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapResponse;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.ResultOrder;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.TaskResult;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Maps over a per-task pool whose children the chaos loop kills and stops. Each map of N items must
 * answer every index exactly once: its output, or a failure saying why.
 */
final class PoolChaos {

    private final Channel channel;
    private final String poolId;
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private final List<String> problems = new ArrayList<>();
    private long tasks;
    private int mapSeq;

    PoolChaos(Channel channel) {
        this.channel = channel;
        this.poolId = PoolServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .create(CreatePoolRequest.newBuilder().setName("chaos-pool").setProcesses(2).setMaxRetries(5)
                        .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK)
                                .addArgv("sh").addArgv("-c").addArgv("sleep 0.05; echo \"$1\"").addArgv("sh").addArgv("{}"))
                        .build())
                .getPool().getId();
    }

    /** A map in flight. */
    final class Run implements StreamObserver<MapResponse> {
        final int items;
        final String prefix;
        final List<TaskResult> results = new ArrayList<>();
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Run(int items) {
            this.items = items;
            this.prefix = "m" + (mapSeq++) + "-";
        }

        @Override
        public synchronized void onNext(MapResponse r) {
            results.addAll(r.getResultsList());
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            done.complete(null);
        }
    }

    Run start(int items) {
        Run run = new Run(items);
        StreamObserver<MapRequest> requests = PoolServiceGrpc.newStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS).map(run);
        requests.onNext(MapRequest.newBuilder().setStart(MapStart.newBuilder().setName(poolId)
                .setOrder(ResultOrder.RESULT_ORDER_COMPLETION)).build());
        MapRequest.Builder b = MapRequest.newBuilder();
        for (int i = 0; i < items; i++) {
            b.addItems(TaskInput.newBuilder().setItem(ByteString.copyFromUtf8(run.prefix + i)));
        }
        requests.onNext(b.build());
        requests.onCompleted();
        return run;
    }

    /** Waits for the map, then checks each index came back exactly once with a sane outcome. */
    void finish(Run run) {
        try {
            run.done.get(150, TimeUnit.SECONDS);
        } catch (Exception e) {
            synchronized (this) {
                problems.add("map " + run.prefix + " did not complete: " + e);
            }
            return;
        }
        int[] seen = new int[run.items];
        synchronized (run) {
            for (TaskResult r : run.results) {
                if (r.getIndex() < 0 || r.getIndex() >= run.items) {
                    problems.add("map " + run.prefix + " answered index " + r.getIndex() + " it never sent");
                    continue;
                }
                seen[(int) r.getIndex()]++;
                String outcome;
                if (r.hasFailure()) {
                    outcome = "failed " + r.getFailure().getKind();
                } else {
                    String expected = run.prefix + r.getIndex() + "\n";
                    outcome = r.getOutput().toStringUtf8().equals(expected) ? "ok" : "wrong output";
                    if (!outcome.equals("ok")) {
                        problems.add("map " + run.prefix + " index " + r.getIndex() + " output '" + r.getOutput().toStringUtf8() + "'");
                    }
                }
                synchronized (this) {
                    outcomes.merge(outcome, 1, Integer::sum);
                }
            }
        }
        synchronized (this) {
            tasks += run.items;
            for (int i = 0; i < run.items; i++) {
                if (seen[i] == 0) {
                    problems.add("map " + run.prefix + " lost index " + i);
                } else if (seen[i] > 1) {
                    problems.add("map " + run.prefix + " answered index " + i + " " + seen[i] + " times");
                }
            }
        }
    }

    synchronized List<String> problems() {
        return List.copyOf(problems);
    }

    synchronized String figures() {
        return tasks + " tasks: " + outcomes;
    }
}
