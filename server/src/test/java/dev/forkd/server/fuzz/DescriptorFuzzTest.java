package dev.forkd.server.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.TextFormat;
import dev.forkd.server.suites.ServerProcess;
import dev.forkd.server.suites.TestSession;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.CreatePipeRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.CreateSyncRequest;
import dev.forkd.v1.DeletePoolRequest;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.DeleteQueueRequest;
import dev.forkd.v1.DeleteSharedRequest;
import dev.forkd.v1.DeleteSyncRequest;
import dev.forkd.v1.DictItem;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ListPoolsRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.PipeServiceGrpc;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SetDictItemsRequest;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.Status.Code;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes every RPC of every public service from the proto descriptors, against a real server with
 * real agents and children (DESIGN §9). After each call: never UNKNOWN or INTERNAL, the server
 * answers, another client's sentinel process, queue item and lock are untouched, and a refused
 * call changed nothing.
 *
 * <p>{@code -Dforkd.fuzz.calls=N} (default 2,000 in the build, about 40 s on 2 cores;
 * {@code server/chaos-long.sh} runs 30,000), {@code -Dforkd.fuzz.seed=S} (logged; replays a
 * run), {@code -Dforkd.fuzz.deadlineMs=D} (default 2000, the client deadline of every call).
 */
@Tag("fuzz")
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class DescriptorFuzzTest {

    private static final Set<Code> REFUSALS = EnumSet.of(Code.INVALID_ARGUMENT, Code.NOT_FOUND,
            Code.FAILED_PRECONDITION, Code.ALREADY_EXISTS, Code.RESOURCE_EXHAUSTED, Code.OUT_OF_RANGE,
            Code.PERMISSION_DENIED, Code.UNAUTHENTICATED, Code.UNIMPLEMENTED);
    private static final List<ServiceDescriptor> SERVICES = List.of(
            dev.forkd.v1.ProcessProto.getDescriptor().findServiceByName("ProcessService"),
            dev.forkd.v1.QueueProto.getDescriptor().findServiceByName("QueueService"),
            dev.forkd.v1.PipeProto.getDescriptor().findServiceByName("PipeService"),
            dev.forkd.v1.SyncProto.getDescriptor().findServiceByName("SyncService"),
            dev.forkd.v1.SharedProto.getDescriptor().findServiceByName("SharedService"),
            dev.forkd.v1.PoolProto.getDescriptor().findServiceByName("PoolService"),
            dev.forkd.v1.SessionProto.getDescriptor().findServiceByName("SessionService"),
            dev.forkd.v1.ProgramProto.getDescriptor().findServiceByName("ProgramService"));

    private static ServerProcess server;
    private static Channel fuzzChannel;
    private static Observer observer;
    private static TestSession sentinelSession;
    private static Sentinel sentinel;
    private static final List<String> baseline = new ArrayList<>();

    record Sentinel(String processId, String queue, String lock) {}

    record Finding(long call, String method, String mode, String what, String request) {}

    /** Findings by class (how it was sent, what went wrong), each with its count, methods and first case. */
    static final class Findings {
        private final Map<String, List<Finding>> firsts = new LinkedHashMap<>();
        private final Map<String, Integer> counts = new LinkedHashMap<>();
        private final Map<String, java.util.TreeSet<String>> methods = new LinkedHashMap<>();
        private int size;

        void add(Finding f) {
            String how = f.mode().startsWith("garbage") ? "garbage" : f.mode().startsWith("stream") ? "stream" : "message";
            String key = "[" + how + "] " + truncate(f.what().replaceAll("[0-9a-f]{6,}|\\d+", "#"), 140);
            firsts.computeIfAbsent(key, k -> new ArrayList<>());
            if (firsts.get(key).size() < 3) {
                firsts.get(key).add(f);
            }
            counts.merge(key, 1, Integer::sum);
            methods.computeIfAbsent(key, k -> new java.util.TreeSet<>()).add(f.method());
            size++;
        }

        int size() {
            return size;
        }

        boolean isEmpty() {
            return size == 0;
        }

        String report() {
            StringBuilder sb = new StringBuilder();
            firsts.forEach((k, list) -> {
                sb.append("\n  ").append(counts.get(k)).append("x ").append(k)
                        .append("\n      methods: ").append(methods.get(k));
                for (Finding f : list) {
                    sb.append("\n      call ").append(f.call()).append(" (").append(f.method()).append(", ")
                            .append(f.mode()).append("): ").append(truncate(f.what(), 200))
                            .append("\n        request: ").append(truncate(f.request(), 240));
                }
            });
            return sb.toString();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        // One agent: the sentinel shares it with everything the fuzzer spawns, as another client would.
        server = ServerProcess.start(1, 100_000, "768m", List.of());
        fuzzChannel = server.newChannel();
        var sentinelChannel = server.newChannel();
        observer = new Observer(sentinelChannel);
        sentinelSession = TestSession.open(sentinelChannel, "sentinel-client");
        sentinel = newSentinel("sentinel");
        createBaseline();
    }

    @AfterAll
    static void stop() throws Exception {
        if (sentinelSession != null) {
            sentinelSession.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static Sentinel newSentinel(String prefix) {
        Channel c = sentinelSession.channel;
        ProcessInfo p = ProcessServiceGrpc.newBlockingStub(c).withDeadlineAfter(60, TimeUnit.SECONDS)
                .spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("100000").setName(prefix + "-proc").build())
                .getProcess();
        var queues = QueueServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
        queues.create(CreateQueueRequest.newBuilder().setName(prefix + "-q").build());
        queues.put(PutRequest.newBuilder().setName(prefix + "-q")
                .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("keep me"))).build());
        var sync = SyncServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
        sync.create(CreateSyncRequest.newBuilder().setName(prefix + "-lock").setKind(SyncKind.SYNC_KIND_LOCK).build());
        if (!sync.acquire(AcquireRequest.newBuilder().setName(prefix + "-lock").build()).getAcquired()) {
            throw new AssertionError("the sentinel cannot take its lock");
        }
        return new Sentinel(p.getId(), prefix + "-q", prefix + "-lock");
    }

    /** Objects of every kind for the fuzzer to hit by name, owned by the fuzzing client. */
    private static void createBaseline() {
        Channel c = fuzzChannel;
        var procs = ProcessServiceGrpc.newBlockingStub(c).withDeadlineAfter(60, TimeUnit.SECONDS);
        ProcessInfo sleeper = procs.spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("100000").setName("fz-sleep").build()).getProcess();
        ProcessInfo ended = procs.spawn(SpawnRequest.newBuilder().addArgv("true").setName("fz-true").build()).getProcess();
        procs.join(JoinProcessRequest.newBuilder().setName(ended.getId()).setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(30)).build());
        baseline.addAll(List.of(sleeper.getId(), "fz-sleep", ended.getId(), "fz-true"));
        var queues = QueueServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
        queues.create(CreateQueueRequest.newBuilder().setName("fz-q").setMaxsize(10).build());
        queues.create(CreateQueueRequest.newBuilder().setName("fz-empty").build());
        queues.put(PutRequest.newBuilder().setName("fz-q").addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("a")))
                .addItems(QueueItem.newBuilder().setData(ByteString.copyFromUtf8("b"))).build());
        baseline.addAll(List.of("fz-q", "fz-empty"));
        var sync = SyncServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
        for (SyncKind k : List.of(SyncKind.SYNC_KIND_LOCK, SyncKind.SYNC_KIND_RLOCK, SyncKind.SYNC_KIND_SEMAPHORE,
                SyncKind.SYNC_KIND_BOUNDED_SEMAPHORE, SyncKind.SYNC_KIND_EVENT, SyncKind.SYNC_KIND_BARRIER)) {
            String name = "fz-" + k.name().substring(10).toLowerCase(java.util.Locale.ROOT);
            var b = CreateSyncRequest.newBuilder().setName(name).setKind(k);
            if (k == SyncKind.SYNC_KIND_SEMAPHORE || k == SyncKind.SYNC_KIND_BOUNDED_SEMAPHORE) {
                b.setValue(2);
            }
            if (k == SyncKind.SYNC_KIND_BARRIER) {
                b.setParties(2);
            }
            sync.create(b.build());
            baseline.add(name);
        }
        sync.create(CreateSyncRequest.newBuilder().setName("fz-condition").setKind(SyncKind.SYNC_KIND_CONDITION).setLock("fz-lock").build());
        baseline.add("fz-condition");
        var shared = SharedServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
        shared.setValue(SetValueRequest.newBuilder().setName("fz-value").setValue(Scalar.newBuilder().setInt64Value(1)).build());
        shared.setDictItems(SetDictItemsRequest.newBuilder().setName("fz-dict")
                .addItems(DictItem.newBuilder().setKey("k").setValue(Scalar.newBuilder().setStringValue("v"))).build());
        baseline.addAll(List.of("fz-value", "fz-dict", "k"));
        var pipe = PipeServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS)
                .create(CreatePipeRequest.newBuilder().setName("fz-pipe").setDuplex(true).build()).getPipe();
        baseline.add("fz-pipe");
        pipe.getEndsList().forEach(e -> baseline.add(e.getId()));
        var pool = PoolServiceGrpc.newBlockingStub(c).withDeadlineAfter(60, TimeUnit.SECONDS)
                .create(CreatePoolRequest.newBuilder().setName("fz-pool").setProcesses(1)
                        .setWorker(WorkerSpec.newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK).addArgv("true").addArgv("{}")).build())
                .getPool();
        baseline.addAll(List.of(pool.getId(), "fz-pool"));
    }

    @Test
    void everyRpcSurvivesRandomAndExtremeMessages() throws Exception {
        long calls = Long.getLong("forkd.fuzz.calls", 2000);
        long seed = Long.getLong("forkd.fuzz.seed", System.nanoTime());
        long deadline = Long.getLong("forkd.fuzz.deadlineMs", 2000);
        System.out.println("fuzz: seed " + seed + " (replay with -Dforkd.fuzz.seed=" + seed + "), calls " + calls);
        Random random = new Random(seed);
        MessageFuzzer fuzzer = new MessageFuzzer(random, baseline);
        List<MethodDescriptor> methods = SERVICES.stream().flatMap(s -> s.getMethods().stream()).toList();
        Map<String, Integer> byStatus = new TreeMap<>();
        Map<String, Integer> byMethod = new TreeMap<>();
        Findings findings = new Findings();
        long logBefore = server.logBytes();
        long started = System.nanoTime();
        Observer.Snapshot before = settled(observer.snapshot());
        List<ExtremeDurations.Planned> planned = ExtremeDurations.plan(methods, targets());
        System.out.println("fuzz: " + planned.size() + " extreme-duration calls first, then " + calls + " random ones");
        for (long i = 0; i < planned.size() + calls; i++) {
            if (i == planned.size() || i > 0 && i % 500 == 0) {
                probe(findings, i);
            }
            if (i > 0 && i % 200 == 0) {
                cleanUp();
                before = settled(observer.snapshot());
            }
            MethodDescriptor m = i < planned.size() ? planned.get((int) i).method() : methods.get(random.nextInt(methods.size()));
            List<byte[]> messages = new ArrayList<>();
            RawCall.Ending ending = RawCall.Ending.HALF_CLOSE;
            String mode;
            DynamicMessage shown = null;
            if (i < planned.size()) {
                mode = "extreme duration";
                shown = planned.get((int) i).request();
                messages.add(shown.toByteArray());
            } else if (random.nextInt(100) < 12) {
                mode = "garbage";
                if (m.isClientStreaming() && random.nextBoolean()) {
                    messages.add(fuzzer.message(m.getInputType()).toByteArray());
                }
                messages.add(fuzzer.garbage(m.getInputType()));
            } else if (m.isClientStreaming()) {
                int k = random.nextInt(5);
                for (int j = 0; j < k; j++) {
                    shown = fuzzer.message(m.getInputType());
                    messages.add(shown.toByteArray());
                }
                ending = RawCall.Ending.values()[random.nextInt(3)];
                mode = "stream of " + k + " then " + ending;
            } else {
                shown = fuzzer.message(m.getInputType());
                messages.add(shown.toByteArray());
                if (m.isServerStreaming()) {
                    ending = RawCall.Ending.values()[random.nextInt(3)];
                }
                mode = ending == RawCall.Ending.HALF_CLOSE ? "message" : "message then " + ending;
            }
            // A stall, or a wait that may be "no limit", ends at a short deadline: only its status matters.
            long callDeadline = ending == RawCall.Ending.STALL || i < planned.size() ? Math.min(deadline, 400) : deadline;
            RawCall.Outcome out = RawCall.run(fuzzChannel, m, messages, ending, callDeadline);
            Status s = out.status();
            byStatus.merge(s.getCode().name(), 1, Integer::sum);
            byMethod.merge(m.getService().getName() + "/" + m.getName(), 1, Integer::sum);
            String request = shown == null ? "(bytes)" : truncate(runsShortened(TextFormat.shortDebugString(shown)), 400);
            String method = m.getService().getName() + "/" + m.getName();
            if (s.getCode() == Code.UNKNOWN || s.getCode() == Code.INTERNAL || s.getCode() == Code.UNAVAILABLE
                    || String.valueOf(s.getDescription()).startsWith("HUNG")) {
                findings.add(new Finding(i, method, mode, s.getCode() + ": " + truncate(s.getDescription(), 200), request));
            }
            if (!observer.answers()) {
                findings.add(new Finding(i, method, mode, "the server stopped answering", request));
                break;
            }
            var broken = observer.sentinelsBroken(sentinel.processId(), sentinel.queue(), sentinel.lock(), sentinelSession.id);
            if (broken.isPresent()) {
                findings.add(new Finding(i, method, mode, "another client's sentinel touched: " + broken.get(), request));
                sentinel = newSentinel("sentinel-" + i);
                before = settled(observer.snapshot());
                continue;
            }
            Observer.Snapshot after = observer.snapshot();
            if (REFUSALS.contains(s.getCode()) && !after.equals(before)) {
                findings.add(new Finding(i, method, mode, "refused (" + s.getCode() + ") yet changed state: "
                        + truncate(before.diff(after), 300), request));
            }
            before = after.equals(before) ? after : settled(after);
        }
        probe(findings, planned.size() + calls);
        double seconds = (System.nanoTime() - started) / 1e9;
        long logGrowth = server.logBytes() - logBefore;
        System.out.printf("fuzz: %d calls in %.1f s; by status %s; log grew %,d bytes%n",
                byStatus.values().stream().mapToInt(Integer::intValue).sum(), seconds, byStatus, logGrowth);
        System.out.println("fuzz: calls by method " + byMethod);
        String report = findings.report();
        System.out.println("fuzz: " + findings.size() + " findings (seed " + seed + ")" + report);
        assertTrue(findings.isEmpty(), findings.size() + " findings with seed " + seed + ":" + report
                + "\nserver log tail:\n" + server.logTail());
    }

    /**
     * Damage that shows only later (an agent that exits after a bad event, a waiter that fires
     * late): another client must still get a process run to its end, and its sentinels intact.
     */
    private static void probe(Findings findings, long call) {
        try {
            var procs = ProcessServiceGrpc.newBlockingStub(sentinelSession.channel);
            ProcessInfo p = procs.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .spawn(SpawnRequest.newBuilder().addArgv("true").build()).getProcess();
            ProcessInfo end = procs.withDeadlineAfter(40, TimeUnit.SECONDS).join(JoinProcessRequest.newBuilder().setName(p.getId())
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(30)).build()).getProcess();
            if (end.getState() != dev.forkd.v1.ProcessState.PROCESS_STATE_EXITED || end.getExitCode() != 0) {
                findings.add(new Finding(call, "(probe)", "probe", "another client's `true` ended " + end.getState()
                        + " " + end.getFailure(), ""));
            }
            procs.withDeadlineAfter(30, TimeUnit.SECONDS).delete(DeleteProcessRequest.newBuilder().setName(p.getId()).build());
        } catch (RuntimeException e) {
            findings.add(new Finding(call, "(probe)", "probe", "another client cannot run `true`: " + e, ""));
        }
        observer.sentinelsBroken(sentinel.processId(), sentinel.queue(), sentinel.lock(), sentinelSession.id).ifPresent(b -> {
            findings.add(new Finding(call, "(probe)", "probe", "another client's sentinel touched: " + b, ""));
            sentinel = newSentinel("sentinel-probe-" + call);
        });
    }

    /** Which baseline object each method's extreme-duration call reaches. */
    private static Map<String, String> targets() {
        Map<String, String> t = new java.util.HashMap<>();
        t.put("argv", "sleep 1"); // long enough for a timeout to be armed, short enough to end by itself
        t.put("ProcessService/*", baseline.get(0)); // the fuzzer's own sleeper
        t.put("QueueService/*", "fz-empty");
        t.put("QueueService/Put", "fz-q"); // maxsize 10 with 2 items: a put of many waits
        t.put("PipeService/*", "fz-pipe");
        t.put("PipeService/Recv", pipeEnd());
        t.put("PipeService/Poll", pipeEnd());
        t.put("PipeService/Send", pipeEnd());
        t.put("SyncService/*", "fz-lock");
        t.put("SyncService/WaitEvent", "fz-event");
        t.put("SyncService/WaitCondition", "fz-condition");
        t.put("SyncService/WaitCondition.lock", "fz-lock");
        t.put("SyncService/WaitBarrier", "fz-barrier");
        t.put("SyncService/Acquire", "fz-semaphore");
        t.put("PoolService/*", baseline.get(baseline.indexOf("fz-pool") - 1));
        t.put("PoolService/Create.name", "");
        return t;
    }

    private static String pipeEnd() {
        return baseline.get(baseline.indexOf("fz-pipe") + 1);
    }

    /** Waits for what earlier calls set going (a pool ending, a restart) to settle: two equal snapshots. */
    private static Observer.Snapshot settled(Observer.Snapshot s) {
        for (int i = 0; i < 50; i++) {
            Observer.Snapshot next = observer.snapshot();
            if (next.equals(s)) {
                return next;
            }
            s = next;
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
        }
        return s;
    }

    /** Removes what the fuzzer created (not the baseline, not the sentinel), so tables stay small. */
    private static void cleanUp() {
        Channel c = fuzzChannel;
        var procs = ProcessServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
        var keep = new java.util.HashSet<>(baseline);
        keep.add(sentinel.processId());
        try {
            for (ProcessInfo p : procs.list(ListProcessesRequest.newBuilder().build()).getProcessesList()) {
                if (keep.contains(p.getId()) || p.getName().startsWith("sentinel")) {
                    continue;
                }
                quietly(() -> procs.signal(SignalRequest.newBuilder().setName(p.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build()));
                quietly(() -> procs.join(JoinProcessRequest.newBuilder().setName(p.getId())
                        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(5)).build()));
                quietly(() -> procs.delete(DeleteProcessRequest.newBuilder().setName(p.getId()).build()));
            }
            Observer.Snapshot s = observer.snapshot();
            var queues = QueueServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
            s.queues().keySet().stream().map(k -> k.substring(0, k.indexOf('/')) + "\0" + k.substring(k.indexOf('/') + 1))
                    .filter(k -> !keep.contains(k.split("\0", -1)[1]) && !k.split("\0", -1)[1].startsWith("sentinel"))
                    .forEach(k -> quietly(() -> queues.delete(DeleteQueueRequest.newBuilder().setName(k.split("\0", -1)[0]).build())));
            var sync = SyncServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
            s.sync().keySet().stream().filter(n -> !keep.contains(n) && !n.startsWith("sentinel"))
                    .forEach(n -> quietly(() -> sync.delete(DeleteSyncRequest.newBuilder().setName(n).build())));
            var shared = SharedServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
            s.shared().keySet().stream().filter(n -> !keep.contains(n))
                    .forEach(n -> quietly(() -> shared.delete(DeleteSharedRequest.newBuilder().setName(n).build())));
            var pools = PoolServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
            pools.list(ListPoolsRequest.getDefaultInstance()).getPoolsList().stream()
                    .filter(p -> !keep.contains(p.getId()))
                    .forEach(p -> quietly(() -> pools.delete(DeletePoolRequest.newBuilder().setName(p.getId()).build())));
        } catch (RuntimeException e) {
            System.out.println("fuzz: clean-up failed: " + e);
        }
    }

    private static void quietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // best effort: what is left goes next round
        }
    }

    /** "xxxx...x" (5,000 of them) becomes "x<x5000>", so a finding shows the request's shape. */
    private static String runsShortened(String s) {
        return java.util.regex.Pattern.compile("(\\\\000|.)\\1{15,}").matcher(s)
                .replaceAll(m -> java.util.regex.Matcher.quoteReplacement(
                        m.group(1) + "<x" + (m.group().length() / m.group(1).length()) + ">"));
    }

    private static String truncate(String s, int n) {
        if (s == null) {
            return "null";
        }
        return s.length() <= n ? s : s.substring(0, n) + "...(" + s.length() + " chars)";
    }
}
