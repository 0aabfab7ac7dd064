package dev.forkd.server.limits;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.forkd.server.suites.ServerProcess;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.CreatePipeRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.CreateSyncRequest;
import dev.forkd.v1.DeletePipeRequest;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.DeleteQueueRequest;
import dev.forkd.v1.DeleteSharedRequest;
import dev.forkd.v1.DeleteSyncRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.PipeServiceGrpc;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fills every bound of a real server (queues, pipes, sync primitives, shared objects, processes,
 * queue bytes, kept output, watchers, sessions) until it refuses with RESOURCE_EXHAUSTED naming a
 * reason, while another client keeps working. The server runs with a 512 MiB heap: a fill that
 * passes 1.5 heaps without a refusal, or a server that dies or stops answering, fails the test.
 *
 * <p>{@code -Dforkd.limits.heap=512m}, {@code -Dforkd.limits.memoryBudget=BYTES} (default: the
 * server's own default), {@code -Dforkd.limits.sessions=N} (the most sessions tried, default 100,001),
 * {@code -Dforkd.limits.watchers=N} (default 20,000).
 */
@Tag("limits")
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class BoundsFillTest {

    private static final int MAX_PROCESSES = 300;
    private static final long MIB = 1 << 20;

    private final Map<String, String> figures = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private ServerProcess server;

    interface Step {
        void run(int i);
    }

    /** Runs {@code step} until refused (or {@code cap} times). Returns how many succeeded. */
    private int fill(String bound, int cap, boolean refusalRequired, Step step) {
        long t0 = System.nanoTime();
        int n = fillUntilRefused(bound, cap, refusalRequired, step);
        figures.put(bound, figures.get(bound) + String.format(" [%.1f s]", (System.nanoTime() - t0) / 1e9));
        return n;
    }

    private int fillUntilRefused(String bound, int cap, boolean refusalRequired, Step step) {
        for (int i = 0; i < cap; i++) {
            try {
                step.run(i);
            } catch (StatusRuntimeException e) {
                String p = Refusals.problem(e);
                if (p == null) {
                    figures.put(bound, "refused after " + i + " (" + Refusals.reason(e) + ": "
                            + abbreviate(e.getStatus().getDescription()) + ")");
                } else {
                    problems.add(bound + ": after " + i + ", " + p);
                    figures.put(bound, "failed after " + i);
                }
                return i;
            }
            if (i % 50 == 0 && !server.alive()) {
                problems.add(bound + ": the server died after " + i + ":\n" + server.logTail());
                return i;
            }
        }
        if (refusalRequired) {
            problems.add(bound + ": no refusal after " + cap);
        }
        figures.put(bound, "no refusal after " + cap);
        return cap;
    }

    @Test
    void everyBoundRefusesWhileAnotherClientIsServed() throws Exception {
        String heap = System.getProperty("forkd.limits.heap", "512m");
        long heapBytes = Long.parseLong(heap.replaceAll("[^0-9]", "")) * (heap.endsWith("g") ? 1024 * MIB : MIB);
        List<String> props = new ArrayList<>();
        String budget = System.getProperty("forkd.limits.memoryBudget", "");
        if (!budget.isEmpty()) {
            props.add("-Dforkd.test.memoryBudget=" + budget);
        }
        server = ServerProcess.start(1, MAX_PROCESSES, heap, props);
        boolean passed = false;
        try (SentinelClient sentinel = new SentinelClient(server.newChannel())) {
            Channel c = server.newChannel();
            var queues = QueueServiceGrpc.newBlockingStub(c);
            int n = fill("queues", 5_000, true, i -> queues.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .create(CreateQueueRequest.newBuilder().setName("fill-q-" + i).build()));
            for (int i = 0; i < n; i++) {
                queues.withDeadlineAfter(30, TimeUnit.SECONDS).delete(DeleteQueueRequest.newBuilder().setName("fill-q-" + i).build());
            }
            var pipes = PipeServiceGrpc.newBlockingStub(c);
            n = fill("pipes", 5_000, true, i -> pipes.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .create(CreatePipeRequest.newBuilder().setName("fill-p-" + i).build()));
            for (int i = 0; i < n; i++) {
                pipes.withDeadlineAfter(30, TimeUnit.SECONDS).delete(DeletePipeRequest.newBuilder().setName("fill-p-" + i).build());
            }
            var sync = SyncServiceGrpc.newBlockingStub(c);
            n = fill("sync primitives", 20_000, true, i -> sync.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .create(CreateSyncRequest.newBuilder().setName("fill-l-" + i).setKind(SyncKind.SYNC_KIND_LOCK).build()));
            for (int i = 0; i < n; i++) {
                sync.withDeadlineAfter(30, TimeUnit.SECONDS).delete(DeleteSyncRequest.newBuilder().setName("fill-l-" + i).build());
            }
            var shared = SharedServiceGrpc.newBlockingStub(c);
            n = fill("shared objects", 20_000, true, i -> shared.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .setValue(SetValueRequest.newBuilder().setName("fill-v-" + i).setValue(Scalar.newBuilder().setInt64Value(i)).build()));
            for (int i = 0; i < n; i++) {
                shared.withDeadlineAfter(30, TimeUnit.SECONDS).delete(DeleteSharedRequest.newBuilder().setName("fill-v-" + i).build());
            }
            fillProcesses(c);
            fillQueueBytes(c, heapBytes);
            fillOutput(c, heapBytes);
            fillWatchers(c);
            fillSessions(c);
            if (!server.alive()) {
                problems.add("the server died:\n" + server.logTail());
            }
            sentinel.close();
            sentinel.failures().forEach(f -> problems.add("the other client failed: " + f));
            figures.put("other client", sentinel.rounds() + " rounds of health, get, put and take");
            figures.forEach((k, v) -> System.out.println("limits: " + k + ": " + v));
            passed = problems.isEmpty();
        } finally {
            server.close(!passed);
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    private void fillProcesses(Channel c) {
        var procs = ProcessServiceGrpc.newBlockingStub(c);
        List<String> ids = new ArrayList<>();
        fill("processes", MAX_PROCESSES + 10, true, i -> ids.add(procs.withDeadlineAfter(60, TimeUnit.SECONDS)
                .spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("100000").build()).getProcess().getId()));
        endAll(procs, ids);
    }

    /** 1 MiB items into queue after queue (each holds at most its own byte bound) up to 1.5 heaps. */
    private void fillQueueBytes(Channel c, long heapBytes) {
        var queues = QueueServiceGrpc.newBlockingStub(c);
        ByteString mib = ByteString.copyFrom(new byte[(int) MIB]);
        int[] queue = {0};
        List<String> names = new ArrayList<>();
        int cap = (int) (heapBytes * 3 / 2 / MIB);
        fill("queue bytes (1 MiB items)", cap, true, i -> {
            while (true) {
                if (names.size() <= queue[0]) {
                    names.add("fill-bytes-" + queue[0]);
                    queues.withDeadlineAfter(30, TimeUnit.SECONDS).create(CreateQueueRequest.newBuilder().setName(names.getLast()).build());
                }
                boolean timedOut = queues.withDeadlineAfter(30, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                        .setName(names.get(queue[0])).addItems(QueueItem.newBuilder().setData(mib))
                        .setTimeout(com.google.protobuf.Duration.newBuilder().setNanos(50_000_000)).build()).getTimedOut();
                if (!timedOut) {
                    return;
                }
                queue[0]++; // this queue is at its own bound: on to the next
            }
        });
        for (String q : names) {
            queues.withDeadlineAfter(30, TimeUnit.SECONDS).delete(DeleteQueueRequest.newBuilder().setName(q).build());
        }
    }

    /**
     * Processes that each write 16 MiB, kept as output, up to 1.5 heaps in all. The budget may
     * refuse the spawn or drop the oldest output; either way the server must not run out.
     */
    private void fillOutput(Channel c, long heapBytes) {
        var procs = ProcessServiceGrpc.newBlockingStub(c);
        List<String> ids = new ArrayList<>();
        int cap = (int) (heapBytes * 3 / 2 / (16 * MIB));
        fill("kept output (16 MiB per process)", cap, false, i -> {
            String id = procs.withDeadlineAfter(60, TimeUnit.SECONDS).spawn(SpawnRequest.newBuilder()
                    .addArgv("head").addArgv("-c").addArgv(Long.toString(16 * MIB)).addArgv("/dev/zero").build())
                    .getProcess().getId();
            ids.add(id);
            procs.withDeadlineAfter(120, TimeUnit.SECONDS).join(JoinProcessRequest.newBuilder().setName(id)
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(100)).build());
        });
        if (!server.alive()) {
            problems.add("kept output: the server died:\n" + server.logTail());
            return;
        }
        endAll(procs, ids);
    }

    /**
     * Follow-watches of one process, never read, until refused. An accepted watch answers at once
     * with the process's state, a refused one with its error: each batch of 100 waits for those first
     * answers, so a refusal is seen where it happens, however far the server lags behind the client.
     */
    private void fillWatchers(Channel c) {
        int cap = Integer.getInteger("forkd.limits.watchers", 20_000);
        var procs = ProcessServiceGrpc.newStub(c);
        String target = ProcessServiceGrpc.newBlockingStub(c).withDeadlineAfter(60, TimeUnit.SECONDS)
                .spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("100000").build()).getProcess().getId();
        Context.CancellableContext watches = Context.current().withCancellation();
        List<CompletableFuture<Void>> answered = new ArrayList<>();
        fill("watchers", cap, true, i -> {
            CompletableFuture<Void> first = new CompletableFuture<>();
            answered.add(first);
            watches.run(() -> procs.watch(WatchProcessRequest.newBuilder().setName(target).setFollow(true).build(), new StreamObserver<>() {
                @Override
                public void onNext(WatchProcessResponse value) {
                    first.complete(null);
                }

                @Override
                public void onError(Throwable t) {
                    first.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                    first.complete(null);
                }
            }));
            if (i % 100 == 99 || i == cap - 1) {
                for (int k = i - i % 100; k <= i; k++) {
                    try {
                        answered.get(k).get(60, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw e.getCause() instanceof StatusRuntimeException s ? s : new IllegalStateException(e);
                    } catch (java.util.concurrent.TimeoutException | InterruptedException e) {
                        throw new IllegalStateException("watch " + k + " neither started nor was refused within 60 s", e);
                    }
                }
            }
        });
        watches.cancel(null);
        endAll(ProcessServiceGrpc.newBlockingStub(c), List.of(target));
    }

    /**
     * Session streams with a 1 h lease (so nothing needs renewing), opened 500 at a time, until
     * refused. Cancelled together at the end, as clients that all died.
     */
    private void fillSessions(Channel c) {
        int cap = Integer.getInteger("forkd.limits.sessions", 100_001);
        Context.CancellableContext all = Context.current().withCancellation();
        var stub = SessionServiceGrpc.newStub(c);
        List<CompletableFuture<String>> batch = new ArrayList<>();
        int[] opened = {0};
        fill("sessions", (cap + 499) / 500, true, round -> {
            batch.clear();
            for (int k = 0; k < 500; k++) {
                CompletableFuture<String> id = new CompletableFuture<>();
                all.run(() -> {
                    StreamObserver<OpenSessionRequest> open = stub.open(new StreamObserver<>() {
                        @Override
                        public void onNext(OpenSessionResponse r) {
                            id.complete(r.getSessionId());
                        }

                        @Override
                        public void onError(Throwable t) {
                            id.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
                    open.onNext(OpenSessionRequest.newBuilder().setName("fill")
                            .setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(3600)).build());
                });
                batch.add(id);
            }
            for (CompletableFuture<String> id : batch) {
                try {
                    id.get(60, TimeUnit.SECONDS);
                    opened[0]++;
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof StatusRuntimeException sre ? sre : new IllegalStateException(e);
                } catch (Exception e) {
                    throw new IllegalStateException("a session open did not answer within 60 s", e);
                }
            }
        });
        figures.put("sessions", figures.get("sessions") + " (rounds of 500; " + opened[0] + " sessions open)");
        all.cancel(null);
    }

    private static void endAll(ProcessServiceGrpc.ProcessServiceBlockingStub procs, List<String> ids) {
        for (String id : ids) {
            procs.withDeadlineAfter(30, TimeUnit.SECONDS).signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        }
        for (String id : ids) {
            procs.withDeadlineAfter(30, TimeUnit.SECONDS).join(JoinProcessRequest.newBuilder().setName(id)
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(20)).build());
            procs.withDeadlineAfter(30, TimeUnit.SECONDS).delete(DeleteProcessRequest.newBuilder().setName(id).build());
        }
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() <= 120 ? s : s.substring(0, 120) + "...";
    }
}
