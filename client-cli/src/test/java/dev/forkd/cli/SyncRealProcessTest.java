package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SliceListRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchProcessResponse;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Locks, semaphores, barriers, conditions and shared values used by real child processes that a real
 * {@code forkd serve} spawned: each child runs the forkd CLI (or a small Java program) against the
 * server, in its own session, and is killed for real where the test says so.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class SyncRealProcessTest {

    /**
     * 10,000 lock-protected read-modify-writes from four children are 40,000 calls: enough contention
     * for a lost update to show (each child waits on the lock most of the time), and a quarter of
     * the minutes the 40,000 of earlier versions took on a busy 2-core VM.
     */
    private static final Duration JOIN_LIMIT = Duration.ofSeconds(600);

    private RunningServer server;
    private ForkdClient client;

    @BeforeAll
    void start() throws Exception {
        server = RunningServer.start();
        client = ForkdClient.connect(new ListenAddress.Unix(server.socket), Optional.empty(), Optional.empty());
    }

    @AfterAll
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close(); // checks that every child and agent is gone
        }
    }

    /** argv of the forkd CLI in a child JVM like this one. */
    private static List<String> forkd(String... args) {
        List<String> argv = new ArrayList<>(RunningServer.javaCommand());
        argv.add(Main.class.getName());
        argv.addAll(Arrays.asList(args));
        return argv;
    }

    /** argv of the forkd CLI with the full JIT, for children that loop many thousand times. */
    private static List<String> forkdLooping(String... args) {
        List<String> argv = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        argv.addAll(Arrays.asList(args));
        return argv;
    }

    /** The forkd CLI as a shell word list, for use inside {@code sh -c}. */
    private static String forkdSh() {
        return forkd().stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
    }

    private ProcessInfo spawn(List<String> argv) {
        return client.processes().withDeadlineAfter(60, TimeUnit.SECONDS)
                .spawn(SpawnRequest.newBuilder().addAllArgv(argv).build()).getProcess();
    }

    private ProcessInfo join(String id) {
        return client.processes().withDeadlineAfter(JOIN_LIMIT.toSeconds(), TimeUnit.SECONDS)
                .join(JoinProcessRequest.newBuilder().setName(id).build()).getProcess();
    }

    /** A child's stdout. */
    private String output(String id) {
        return output(id, dev.forkd.v1.OutputStream.OUTPUT_STREAM_STDOUT);
    }

    private String output(String id, dev.forkd.v1.OutputStream stream) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Iterator<WatchProcessResponse> it = client.processes().withDeadlineAfter(30, TimeUnit.SECONDS)
                .watch(WatchProcessRequest.newBuilder().setName(id).build());
        while (it.hasNext()) {
            WatchProcessResponse w = it.next();
            if (w.hasOutput() && w.getOutput().getStream() == stream) {
                b.writeBytes(w.getOutput().getData().toByteArray());
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private ProcessInfo joinOk(String id) {
        ProcessInfo p = join(id);
        assertEquals(0, p.getExitCode(), () -> "child " + id + " failed: " + output(id));
        return p;
    }

    /** Follows a child's output until it contains {@code text}. */
    private void awaitOutput(String id, String text) throws Exception {
        try (var ctx = io.grpc.Context.current().withCancellation()) {
            ctx.call(() -> {
                Iterator<WatchProcessResponse> it = client.processes().withDeadlineAfter(60, TimeUnit.SECONDS)
                        .watch(WatchProcessRequest.newBuilder().setName(id).setFollow(true).build());
                StringBuilder seen = new StringBuilder();
                while (it.hasNext()) {
                    WatchProcessResponse w = it.next();
                    if (w.hasOutput()) {
                        seen.append(w.getOutput().getData().toStringUtf8());
                        if (seen.toString().contains(text)) {
                            return null;
                        }
                    }
                }
                throw new AssertionError("child " + id + " ended without printing \"" + text + "\": " + seen);
            });
        }
    }

    private long value(String name) {
        return client.shared().withDeadlineAfter(10, TimeUnit.SECONDS)
                .getValue(GetValueRequest.newBuilder().setName(name).build()).getValue().getInt64Value();
    }

    /** Waits, with a deadline, for state that has no event (a barrier's arrivals). */
    private static void eventually(Duration limit, java.util.function.BooleanSupplier ok, String what) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!ok.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + limit + ": " + what);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    @Test
    void fourChildrenIncrementingUnderALockCountExactly10000() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.add(spawn(forkdLooping("value", "add", "locked-counter", "1", "--times", "2500",
                    "--under-lock", "counter-lock")).getId());
        }
        ids.forEach(this::joinOk);
        assertEquals(10_000, value("locked-counter"));
    }

    @Test
    void fourChildrenWithAtomicAddCountExactly10000() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.add(spawn(forkdLooping("value", "add", "atomic-counter", "1", "--times", "2500")).getId());
        }
        ids.forEach(this::joinOk);
        assertEquals(10_000, value("atomic-counter"));
    }

    @Test
    void killedHolderPassesTheLockToTheWaiterWithinASecondAsAbandoned() throws Exception {
        ProcessInfo holder = spawn(List.of("sh", "-c", forkdSh() + " lock acquire doomed && exec sleep 1000"));
        awaitOutput(holder.getId(), "acquired doomed");
        try (ClientSession s = client.openSession("waiter", Duration.ofSeconds(10), Duration.ofSeconds(10))) {
            CompletableFuture<AcquireResponse> got = new CompletableFuture<>();
            client.syncAsync().withInterceptors(ForkdClient.sessionHeader(s.credential()))
                    .acquire(AcquireRequest.newBuilder().setName("doomed").build(), observer(got));
            eventually(Duration.ofSeconds(10), () -> client.sync()
                    .get(GetSyncRequest.newBuilder().setName("doomed").build()).getInfo().getWaiters() == 1,
                    "the waiter is queued");
            assertFalse(got.isDone());
            long killedAt = System.nanoTime();
            client.processes().signal(SignalRequest.newBuilder().setName(holder.getId())
                    .setKind(SignalKind.SIGNAL_KIND_KILL).build());
            AcquireResponse r = got.get(1, TimeUnit.SECONDS);
            long tookMillis = (System.nanoTime() - killedAt) / 1_000_000;
            assertTrue(r.getAcquired() && r.getAbandoned(), r.toString());
            assertTrue(tookMillis < 1000, "took " + tookMillis + " ms");
        }
        assertEquals(-9, join(holder.getId()).getExitCode());
    }

    @Test
    void withLockSerialisesOverlappingCommands() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(spawn(forkd("with-lock", "serial", "--", "sh", "-c",
                    "date +%s%N; sleep 0.3; date +%s%N")).getId());
        }
        List<long[]> spans = new ArrayList<>();
        for (String id : ids) {
            joinOk(id);
            long[] t = Arrays.stream(output(id).trim().split("\\s+")).mapToLong(Long::parseLong).toArray();
            assertEquals(2, t.length, Arrays.toString(t));
            spans.add(t);
        }
        spans.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int i = 1; i < spans.size(); i++) {
            assertTrue(spans.get(i - 1)[1] <= spans.get(i)[0], "commands overlapped: "
                    + spans.stream().map(Arrays::toString).toList());
        }
    }

    @Test
    void semaphoreOfTwoNeverLetsThreeIn() {
        String f = forkdSh();
        String body = f + " sem acquire gate --value 2 --bounded >/dev/null"
                + " && " + f + " value add inside 1"
                + " && sleep 0.3"
                + " && " + f + " value add inside -1 >/dev/null"
                + " && " + f + " sem release gate >/dev/null";
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(spawn(List.of("sh", "-c", body)).getId());
        }
        List<Long> seen = new ArrayList<>();
        for (String id : ids) {
            joinOk(id);
            seen.add(Long.parseLong(output(id).trim()));
        }
        assertTrue(seen.stream().allMatch(n -> n >= 1 && n <= 2), "inside at once: " + seen);
        assertEquals(0, value("inside"));
        assertEquals(2, client.sync().get(GetSyncRequest.newBuilder().setName("gate").build()).getInfo().getValue());
    }

    @Test
    void barrierOfThreeWithOnePartyKilledBreaksForTheOtherTwo() {
        ProcessInfo a = spawn(forkd("barrier", "wait", "meet", "--parties", "3"));
        ProcessInfo victim = spawn(forkd("barrier", "wait", "meet", "--parties", "3"));
        eventually(Duration.ofSeconds(60), () -> {
            try {
                return client.sync().get(GetSyncRequest.newBuilder().setName("meet").build()).getInfo().getArrived() == 2;
            } catch (io.grpc.StatusRuntimeException e) {
                return false; // not created yet
            }
        }, "two parties waiting");
        client.processes().signal(SignalRequest.newBuilder().setName(victim.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        ProcessInfo first = join(a.getId());
        assertEquals(1, first.getExitCode(), output(a.getId()));
        String err = output(a.getId(), dev.forkd.v1.OutputStream.OUTPUT_STREAM_STDERR);
        assertTrue(err.contains("barrier meet is broken"), err);
        ProcessInfo late = join(spawn(forkd("barrier", "wait", "meet", "--parties", "3")).getId());
        assertEquals(1, late.getExitCode(), "a late party finds it broken");
        assertEquals(-9, join(victim.getId()).getExitCode());
    }

    @Test
    void conditionProducerConsumerPassesAThousandItemsInOrder() {
        List<String> child = new ArrayList<>(RunningServer.javaCommand());
        child.add(SyncChild.class.getName());
        List<String> consumer = new ArrayList<>(child);
        consumer.addAll(List.of("consume", "ready", "buf-lock", "buf", "got", "1000"));
        List<String> producer = new ArrayList<>(child);
        producer.addAll(List.of("produce", "ready", "buf-lock", "buf", "1000"));
        String c = spawn(consumer).getId();
        String p = spawn(producer).getId();
        joinOk(p);
        joinOk(c);
        var got = client.shared().sliceList(SliceListRequest.newBuilder().setName("got").build());
        assertEquals(LongStream.range(0, 1000).boxed().toList(),
                got.getItemsList().stream().map(Scalar::getInt64Value).toList());
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<T> f) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T v) {
                f.complete(v);
            }

            @Override
            public void onError(Throwable t) {
                f.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        };
    }
}
