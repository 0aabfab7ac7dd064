package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import dev.forkd.v1.ApplyAsyncRequest;
import dev.forkd.v1.ApplyRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.ForgetResultRequest;
import dev.forkd.v1.GetPoolRequest;
import dev.forkd.v1.GetResultRequest;
import dev.forkd.v1.GetResultResponse;
import dev.forkd.v1.JoinPoolRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.PoolInfo;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.PoolState;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.ResultOrder;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.TaskFailureKind;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.TaskResult;
import dev.forkd.v1.TerminatePoolRequest;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Pools over real worker processes on real agents: the "done means" list of the pools issue. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PoolTest {

    private static final String PY_DOUBLE = "import sys\nfor l in sys.stdin:\n    print(int(l) * 2, flush=True)\n";
    private static final String PY_PID = "import sys, os\nfor l in sys.stdin:\n    print(os.getpid(), flush=True)\n";

    private static RealServer forkd;

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(2);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    static PoolServiceGrpc.PoolServiceBlockingStub pools() {
        return PoolServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    static PoolServiceGrpc.PoolServiceStub poolsAsync() {
        return PoolServiceGrpc.newStub(forkd.channel);
    }

    static CreatePoolRequest.Builder perTask(int processes, String... argv) {
        return CreatePoolRequest.newBuilder().setProcesses(processes).setWorker(WorkerSpec.newBuilder()
                .setKind(WorkerKind.WORKER_KIND_PER_TASK).addAllArgv(List.of(argv)));
    }

    static CreatePoolRequest.Builder persistent(int processes, String... argv) {
        return CreatePoolRequest.newBuilder().setProcesses(processes).setWorker(WorkerSpec.newBuilder()
                .setKind(WorkerKind.WORKER_KIND_PERSISTENT).addAllArgv(List.of(argv)));
    }

    static List<TaskResult> map(MapStart start, List<TaskInput> items, int perMessage) throws Exception {
        return MapCall.start(poolsAsync(), start, items.iterator(), perMessage, r -> {})
                .done.get(240, TimeUnit.SECONDS);
    }

    static List<TaskInput> numbers(int n) {
        return IntStream.range(0, n).mapToObj(MapCall::item).toList();
    }

    static String text(TaskResult r) {
        assertTrue(r.hasOutput(), () -> "task " + r.getIndex() + " failed: " + r.getFailure());
        return r.getOutput().toStringUtf8().strip();
    }

    @Test
    void mapGivesEverySquareInOrder() throws Exception {
        int n = 10_000;
        var results = map(MapStart.newBuilder()
                .setCreate(perTask(2, "sh", "-c", "echo $(( {} * {} ))")).build(), numbers(n), 500);
        assertEquals(n, results.size());
        for (int i = 0; i < n; i++) {
            assertEquals(i, results.get(i).getIndex());
            assertEquals(Long.toString((long) i * i), text(results.get(i)));
        }
    }

    @Test
    void imapUnorderedReturnsAllWithTheirIndices() throws Exception {
        int n = 300;
        var results = map(MapStart.newBuilder().setOrder(ResultOrder.RESULT_ORDER_COMPLETION)
                .setCreate(perTask(3, "sh", "-c", "echo $(( {} + 1000 ))")).build(), numbers(n), 7);
        assertEquals(n, results.size());
        Set<Long> seen = new HashSet<>();
        for (TaskResult r : results) {
            assertTrue(seen.add(r.getIndex()), "index twice: " + r.getIndex());
            assertEquals(Long.toString(r.getIndex() + 1000), text(r));
        }
    }

    @Test
    void starmapTakesTuples() throws Exception {
        List<TaskInput> tuples = IntStream.range(0, 50).mapToObj(i -> TaskInput.newBuilder()
                .addArgs(Integer.toString(i)).addArgs(Integer.toString(i * 10)).build()).toList();
        var results = map(MapStart.newBuilder().setCreate(perTask(2, "sh", "-c", "echo $(( {1} + {2} ))")).build(),
                tuples, 10);
        for (int i = 0; i < 50; i++) {
            assertEquals(Integer.toString(i + i * 10), text(results.get(i)));
        }
        // The same tuples through a persistent worker: one tab-separated line each.
        var viaWorker = map(MapStart.newBuilder().setCreate(persistent(2, "python3", "-c",
                "import sys\nfor l in sys.stdin:\n    a, b = l.split('\\t')\n    print(int(a) + int(b), flush=True)\n"))
                .build(), tuples, 10);
        for (int i = 0; i < 50; i++) {
            assertEquals(Integer.toString(i + i * 10), text(viaWorker.get(i)));
        }
    }

    @Test
    void persistentPythonWorkerHandlesAHundredThousandItems() throws Exception {
        int n = 100_000;
        var results = map(MapStart.newBuilder().setChunksize(64)
                .setCreate(persistent(2, "python3", "-c", PY_DOUBLE)).build(), numbers(n), 1000);
        assertEquals(n, results.size());
        for (int i = 0; i < n; i++) {
            assertEquals(i, results.get(i).getIndex());
            assertEquals(Long.toString(2L * i), text(results.get(i)));
        }
    }

    @Test
    void workerKilledMidMapStillGivesEveryResultOnce() throws Exception {
        PoolInfo pool = pools().create(persistent(2, "python3", "-c",
                "import sys, time\nfor l in sys.stdin:\n    time.sleep(0.002)\n    print(int(l) * 2, flush=True)\n")
                .setMaxRetries(3).build()).getPool();
        assertEquals(2, pool.getWorkersAlive());
        int n = 2000;
        CountDownLatch some = new CountDownLatch(100);
        MapCall call = MapCall.start(poolsAsync(), MapStart.newBuilder().setName(pool.getId()).build(),
                numbers(n).iterator(), 50, r -> some.countDown());
        assertTrue(some.await(120, TimeUnit.SECONDS));
        String victim = pools().get(GetPoolRequest.newBuilder().setName(pool.getId()).build()).getPool()
                .getWorkerProcessIds(0);
        forkd.processes().signal(SignalRequest.newBuilder().setName(victim).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        var results = call.done.get(240, TimeUnit.SECONDS);
        assertEquals(n, results.size());
        for (int i = 0; i < n; i++) {
            assertEquals(i, results.get(i).getIndex());
            assertEquals(Long.toString(2L * i), text(results.get(i)));
        }
        PoolInfo after = pools().get(GetPoolRequest.newBuilder().setName(pool.getId()).build()).getPool();
        assertTrue(after.getWorkersStarted() >= 3, "the killed worker was replaced: " + after);
        assertEquals(n, after.getTasksSucceeded());
        pools().terminate(TerminatePoolRequest.newBuilder().setName(pool.getId()).build());
    }

    @Test
    void alwaysFailingTaskIsReportedAfterItsRetries() throws Exception {
        var results = map(MapStart.newBuilder().setCreate(perTask(2, "sh", "-c",
                "if [ {} = 3 ]; then echo doomed >&2; kill -9 $$; fi; echo ok {}").setMaxRetries(2)).build(),
                numbers(6), 6);
        for (int i = 0; i < 6; i++) {
            TaskResult r = results.get(i);
            if (i == 3) {
                assertEquals(TaskFailureKind.TASK_FAILURE_KIND_WORKER_DIED, r.getFailure().getKind(), r.toString());
                assertEquals(3, r.getAttempts());
                assertEquals(-9, r.getFailure().getExitCode());
                assertEquals("doomed", r.getFailure().getStderrTail().toStringUtf8().strip());
            } else {
                assertEquals("ok " + i, text(r));
                assertEquals(1, r.getAttempts());
            }
        }
        // A command's own non-zero exit is its result, not retried.
        var exit = map(MapStart.newBuilder().setCreate(perTask(1, "sh", "-c", "echo no {} >&2; exit 3")
                .setMaxRetries(2)).build(), numbers(1), 1);
        assertEquals(TaskFailureKind.TASK_FAILURE_KIND_EXIT, exit.getFirst().getFailure().getKind());
        assertEquals(3, exit.getFirst().getFailure().getExitCode());
        assertEquals(1, exit.getFirst().getAttempts());
        // A persistent worker that dies on one item: that item fails after its retries, the rest pass.
        var crash = map(MapStart.newBuilder().setCreate(persistent(2, "python3", "-c",
                "import sys, os\nfor l in sys.stdin:\n    if int(l) == 7: os._exit(5)\n    print(l.strip(), flush=True)\n")
                .setMaxRetries(1)).build(), numbers(20), 5);
        for (int i = 0; i < 20; i++) {
            if (i == 7) {
                assertEquals(TaskFailureKind.TASK_FAILURE_KIND_WORKER_DIED, crash.get(i).getFailure().getKind());
                assertEquals(2, crash.get(i).getAttempts());
            } else {
                assertEquals(Integer.toString(i), text(crash.get(i)));
            }
        }
    }

    @Test
    void taskTimeoutKillsAndReports() throws Exception {
        var results = map(MapStart.newBuilder().setCreate(perTask(2, "sh", "-c",
                "if [ {} = 1 ]; then exec sleep 60; fi; echo {}").setMaxRetries(1)
                .setTaskTimeout(Duration.newBuilder().setNanos(300_000_000))).build(), numbers(3), 3);
        assertEquals("0", text(results.get(0)));
        assertEquals(TaskFailureKind.TASK_FAILURE_KIND_TIMEOUT, results.get(1).getFailure().getKind());
        assertEquals(2, results.get(1).getAttempts());
        assertEquals("2", text(results.get(2)));
    }

    @Test
    void maxTasksPerChildReplacesWorkers() throws Exception {
        var results = map(MapStart.newBuilder().setCreate(persistent(2, "python3", "-c", PY_PID)
                .setMaxTasksPerChild(10)).build(), numbers(100), 10);
        Map<String, Integer> perPid = new HashMap<>();
        results.forEach(r -> perPid.merge(text(r), 1, Integer::sum));
        assertTrue(perPid.size() >= 10, "pids: " + perPid);
        perPid.values().forEach(c -> assertTrue(c <= 10, "a worker ran more than 10 tasks: " + perPid));
    }

    @Test
    void aShortMapIsSharedByAllWorkersNotTakenByTheFirstReady(@TempDir Path dir) throws Exception {
        // Each task waits (up to 20 s) until two different workers have each taken one; a worker
        // that took both tasks would wait out its deadline and answer "alone".
        String py = "import sys, os, time\nd = sys.argv[1]\nfor l in sys.stdin:\n"
                + "    open(os.path.join(d, str(os.getpid())), 'w').close()\n"
                + "    end = time.monotonic() + 20\n"
                + "    while len(os.listdir(d)) < 2 and time.monotonic() < end:\n"
                + "        time.sleep(0.005)\n"
                + "    print(os.getpid() if len(os.listdir(d)) >= 2 else 'alone', flush=True)\n";
        var results = map(MapStart.newBuilder().setCreate(persistent(2, "python3", "-c", py, dir.toString()))
                .build(), numbers(4), 4);
        Set<String> pids = new HashSet<>();
        results.forEach(r -> pids.add(text(r)));
        assertFalse(pids.contains("alone"), "a worker waited alone: " + pids);
        assertEquals(2, pids.size(), "workers that answered: " + pids);
    }

    @Test
    void aLongTaskDoesNotHoldUpTheTasksBehindIt(@TempDir Path dir) throws Exception {
        // Task 0 runs until the other five have answered (up to 20 s); had any of them been queued
        // behind it on its worker, it would wait out that deadline and answer "held".
        String py = "import sys, os, time\nrelease = os.path.join(sys.argv[1], 'release')\nfor l in sys.stdin:\n"
                + "    if l.strip() != '0':\n"
                + "        print(int(l) * 2, flush=True)\n"
                + "        continue\n"
                + "    end = time.monotonic() + 20\n"
                + "    while not os.path.exists(release) and time.monotonic() < end:\n"
                + "        time.sleep(0.005)\n"
                + "    print('released' if os.path.exists(release) else 'held', flush=True)\n";
        Set<Long> others = ConcurrentHashMap.newKeySet();
        MapCall call = MapCall.start(poolsAsync(), MapStart.newBuilder()
                .setCreate(persistent(2, "python3", "-c", py, dir.toString()))
                .setOrder(ResultOrder.RESULT_ORDER_COMPLETION).build(), numbers(6).iterator(), 6, r -> {
                    if (r.getIndex() != 0 && others.add(r.getIndex()) && others.size() == 5) {
                        try {
                            Files.createFile(dir.resolve("release"));
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }
                });
        Map<Long, String> answers = new HashMap<>();
        call.done.get(240, TimeUnit.SECONDS).forEach(r -> answers.put(r.getIndex(), text(r)));
        assertEquals("released", answers.get(0L), "task 0 ran until the others answered: " + answers);
        assertEquals(Map.of(0L, "released", 1L, "2", 2L, "4", 3L, "6", 4L, "8", 5L, "10"), answers);
    }

    @Test
    void initializerRunsOncePerWorker() throws Exception {
        Path log = Files.createTempFile(forkd.dir, "init", ".log");
        var results = map(MapStart.newBuilder().setCreate(persistent(2, "sh", "-c",
                "while read l; do echo \"$FORKD_POOL_WORKER\"; done")
                .setMaxTasksPerChild(5)
                .addAllInitializer(List.of("sh", "-c", "echo \"$FORKD_POOL_WORKER\" >> " + log))).build(),
                numbers(40), 5);
        Set<String> workers = new HashSet<>();
        results.forEach(r -> workers.add(text(r)));
        List<String> inits = Files.readAllLines(log);
        assertEquals(inits.size(), new HashSet<>(inits).size(), "an initializer ran twice: " + inits);
        assertTrue(new HashSet<>(inits).containsAll(workers), "inits " + inits + " workers " + workers);
        assertTrue(workers.size() >= 8, "workers: " + workers);
    }

    @Test
    void terminateMidMapStopsEveryWorkerAndLeavesNoOrphans() throws Exception {
        PoolInfo pool = pools().create(perTask(2, "sh", "-c", "sleep 61.{} & wait; echo {}")
                .setName("doomed").build()).getPool();
        MapCall call = MapCall.start(poolsAsync(), MapStart.newBuilder().setName("doomed").build(),
                numbers(6).iterator(), 6, r -> {});
        Eventually.await(java.time.Duration.ofSeconds(60), () -> pools().get(GetPoolRequest.newBuilder()
                .setName(pool.getId()).build()).getPool().getWorkersAlive() == 2, () -> "workers never started");
        List<Integer> groups = forkd.processes().list(ListProcessesRequest.newBuilder()
                .putLabels("forkd.pool", pool.getId()).addStates(ProcessState.PROCESS_STATE_RUNNING).build())
                .getProcessesList().stream().map(p -> p.getPid()).toList();
        assertEquals(2, groups.size());
        Eventually.await(java.time.Duration.ofSeconds(30), () -> groups.stream().allMatch(g -> Procs.inGroup(g).size() >= 2),
                () -> "the sleeps never started");
        pools().terminate(TerminatePoolRequest.newBuilder().setName(pool.getId()).build());
        var results = call.done.get(60, TimeUnit.SECONDS);
        assertEquals(6, results.size());
        results.forEach(r -> assertEquals(TaskFailureKind.TASK_FAILURE_KIND_TERMINATED, r.getFailure().getKind()));
        var joined = pools().join(JoinPoolRequest.newBuilder().setName(pool.getId()).build());
        assertEquals(PoolState.POOL_STATE_ENDED, joined.getPool().getState());
        assertEquals(0, joined.getPool().getWorkersAlive());
        Eventually.await(java.time.Duration.ofSeconds(10), () -> groups.stream().allMatch(g -> Procs.inGroup(g).isEmpty()),
                () -> "left in the workers' groups: " + groups.stream().map(Procs::inGroup).toList());
    }

    @Test
    void applyAsyncAndGetResult() {
        PoolInfo pool = pools().create(persistent(1, "python3", "-c", PY_DOUBLE).build()).getPool();
        var r = pools().apply(ApplyRequest.newBuilder().setName(pool.getId()).setInput(MapCall.item(21)).build());
        assertEquals("42", text(r.getResult()));
        List<String> ids = LongStream.range(0, 5).mapToObj(i -> pools().applyAsync(ApplyAsyncRequest.newBuilder()
                .setName(pool.getId()).setInput(MapCall.item(i)).build()).getName()).toList();
        for (int i = 0; i < 5; i++) {
            GetResultResponse got = pools().getResult(GetResultRequest.newBuilder()
                    .setName(ids.get(i)).build());
            assertTrue(got.getReady());
            assertEquals(Integer.toString(2 * i), text(got.getResult()));
        }
        // A retry (as after a lost answer) gets the same result again, until it is forgotten.
        GetResultResponse again = pools().getResult(GetResultRequest.newBuilder().setName(ids.get(3)).build());
        assertTrue(again.getReady());
        assertEquals("6", text(again.getResult()));
        pools().forgetResult(ForgetResultRequest.newBuilder().setName(ids.get(3)).build());
        var gone = assertThrows(StatusRuntimeException.class,
                () -> pools().getResult(GetResultRequest.newBuilder().setName(ids.get(3)).build()));
        assertEquals(Status.Code.NOT_FOUND, gone.getStatus().getCode());
        assertEquals("4", text(pools().getResult(GetResultRequest.newBuilder().setName(ids.get(2)).build()).getResult()),
                "forgetting one result keeps the others");
        pools().close(dev.forkd.v1.ClosePoolRequest.newBuilder().setName(pool.getId()).build());
        var joined = pools().join(JoinPoolRequest.newBuilder().setName(pool.getId()).build());
        assertEquals(PoolState.POOL_STATE_ENDED, joined.getPool().getState());
        assertFalse(joined.getTimedOut());
    }

    @Test
    void haltOnErrorSkipsTheTasksNotStartedAndResultsSayWhereAndWhen() throws Exception {
        java.time.Instant before = java.time.Instant.now().minusSeconds(1);
        MapCall call = MapCall.start(poolsAsync(), MapStart.newBuilder().setHaltOnError(true)
                .setCreate(perTask(1, "sh", "-c", "if [ {} -eq 3 ]; then exit 1; fi; echo {}")).build(),
                numbers(200).iterator(), 200, r -> {});
        var results = call.done.get(120, TimeUnit.SECONDS);
        // One worker: the task after the failed one is not started (the halt is decided as the failure is recorded).
        assertEquals(4, results.size(), "ran " + results.size() + " of 200 after a halt");
        for (int i = 0; i < results.size(); i++) {
            assertEquals(i, results.get(i).getIndex(), "in order, with no gap");
        }
        assertEquals("2", text(results.get(2)));
        assertEquals(TaskFailureKind.TASK_FAILURE_KIND_EXIT, results.get(3).getFailure().getKind());
        assertTrue(call.messages.getLast().getHalted());
        TaskResult first = results.getFirst();
        assertTrue(first.getAgentId().startsWith("a-"), first.toString());
        assertTrue(first.getStartedAt().getSeconds() >= before.getEpochSecond(), first.toString());
        assertTrue(first.hasRuntime() && first.getRuntime().getSeconds() < 60, first.toString());
    }

    @Test
    void ephemeralPoolEndsWithTheSessionThatMadeIt() throws Exception {
        java.util.concurrent.CompletableFuture<dev.forkd.v1.OpenSessionResponse> opened =
                new java.util.concurrent.CompletableFuture<>();
        io.grpc.stub.StreamObserver<dev.forkd.v1.OpenSessionRequest> session = forkd.sessionsAsync().open(
                new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(dev.forkd.v1.OpenSessionResponse r) {
                        opened.complete(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        opened.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        session.onNext(dev.forkd.v1.OpenSessionRequest.newBuilder().setName("pool-owner").build());
        String sid = opened.get(30, TimeUnit.SECONDS).getCredential();
        io.grpc.Metadata h = new io.grpc.Metadata();
        h.put(io.grpc.Metadata.Key.of("forkd-session", io.grpc.Metadata.ASCII_STRING_MARSHALLER), sid);
        MapCall call = MapCall.start(poolsAsync().withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(h)),
                MapStart.newBuilder().setCreate(perTask(1, "sleep", "{}").setName("owned-by-session")).build(),
                List.of(MapCall.item(1000)).iterator(), 1, r -> {});
        Eventually.await(java.time.Duration.ofSeconds(60), () -> pools().list(dev.forkd.v1.ListPoolsRequest
                .getDefaultInstance()).getPoolsList().stream().anyMatch(p -> p.getName().equals("owned-by-session")
                        && p.getWorkerProcessIdsCount() == 1), () -> "the task never started");
        session.onCompleted(); // the session ends with its stream; the Map stream is still open
        var results = call.done.get(60, TimeUnit.SECONDS);
        assertEquals(1, results.size());
        assertEquals(TaskFailureKind.TASK_FAILURE_KIND_TERMINATED, results.getFirst().getFailure().getKind());
        Eventually.await(java.time.Duration.ofSeconds(30), () -> pools().list(dev.forkd.v1.ListPoolsRequest
                .getDefaultInstance()).getPoolsList().stream().noneMatch(p -> p.getName().equals("owned-by-session")),
                () -> "the pool outlived its session");
    }
}
