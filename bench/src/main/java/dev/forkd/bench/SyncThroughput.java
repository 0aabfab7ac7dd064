package dev.forkd.bench;

import com.google.protobuf.util.Durations;
import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AddValueRequest;
import dev.forkd.v1.DeleteSharedRequest;
import dev.forkd.v1.DeleteSyncRequest;
import dev.forkd.v1.DictItem;
import dev.forkd.v1.GetDictItemRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SetDictItemsRequest;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SharedServiceGrpc.SharedServiceBlockingStub;
import dev.forkd.v1.SyncServiceGrpc.SyncServiceBlockingStub;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.health.v1.HealthGrpc.HealthBlockingStub;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

/**
 * Locks and shared state: lock acquire+release pairs per second with one client, with several
 * clients each on its own lock, and with several clients on one lock; shared-counter increments
 * per second (one atomic {@code AddValue} each) with one client and several; a {@code Manager().dict()}
 * style get. Every client is its own connection with its own session (as separate processes would
 * be), in a thread of the harness's JVM, and each operation is one blocking unary call, as the CLI
 * and a simple client make them. Each figure counts the operations done in a fixed window.
 *
 * <p>Peers ({@code peers/mp_sync.py}, the same window, the same number of processes):
 * {@code multiprocessing.Lock}, {@code Value} incremented under {@code get_lock()}, and a
 * {@code Manager().dict()} proxy (a get, and a read-modify-write of one key under a
 * {@code multiprocessing.Lock}).
 */
final class SyncThroughput implements Scenario {

    static final int CLIENTS = 4;
    static final String SERVICE = "forkd.v1.SyncService";
    static final String SHARED = "forkd.v1.SharedService";
    private static final String PEER = "multiprocessing";

    @Override
    public String name() {
        return "sync";
    }

    @Override
    public String title() {
        return "lock acquire+release and shared-counter increments, 1 and " + CLIENTS + " clients";
    }

    @Override
    public Optional<String> unavailable(Bench bench) throws Exception {
        List<String> served;
        try (ForkdClient c = bench.server().connect()) {
            served = Services.served(c);
        }
        for (String s : List.of(SERVICE, SHARED)) {
            if (!served.contains(s)) {
                return Optional.of("the server has no " + s);
            }
        }
        return Optional.empty();
    }

    @Override
    public List<Row> run(Bench bench) throws Exception {
        Duration window = Duration.ofMillis(bench.size(200, 500));
        String prefix = "bench-" + Long.toHexString(System.nanoTime());
        List<Client> clients = new ArrayList<>();
        try {
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(Client.open(bench.server().connect(), i));
            }
            List<Runs.Side> sides = new ArrayList<>();
            sides.add(Runs.Side.forkd(() -> forkd(clients, prefix, window)));
            sides.add(bench.pythonMissing().isEmpty()
                    ? Runs.Side.of(PEER, () -> bench.python("mp_sync.py", "--seconds",
                            Double.toString(window.toMillis() / 1000.0), "--procs", Integer.toString(CLIENTS)))
                    : Runs.Side.unavailable(PEER, bench.pythonMissing().orElseThrow()));
            Runs runs = Runs.measure(name(), bench.warmUps(), bench.rounds(), bench.daemonWarmUp(), sides, bench::log);
            String n = CLIENTS + " clients";
            return List.of(
                    row(runs, "lock, 1 client", "lock_1_per_s", "mp.Lock", "mp_lock_1_per_s", Target.none()),
                    row(runs, "lock, 1 client", "lock_1_per_s", "Manager().dict() get", "mp_dict_get_1_per_s",
                            Target.ratio(2)),
                    row(runs, "lock, " + n + ", own locks", "lock_own_per_s", "mp.Lock", "mp_lock_own_per_s",
                            Target.none()),
                    row(runs, "lock, " + n + ", one lock", "lock_one_per_s", "mp.Lock", "mp_lock_one_per_s",
                            Target.none()),
                    row(runs, "counter add, 1 client", "add_1_per_s", "mp.Value get_lock", "mp_value_1_per_s",
                            Target.none()),
                    row(runs, "counter add, " + n, "add_n_per_s", "mp.Value get_lock", "mp_value_n_per_s",
                            Target.none()),
                    row(runs, "counter add, 1 client", "add_1_per_s", "Manager().dict() + Lock",
                            "mp_dict_incr_1_per_s", Target.none()),
                    row(runs, "counter add, " + n, "add_n_per_s", "Manager().dict() + Lock",
                            "mp_dict_incr_n_per_s", Target.none()),
                    row(runs, "dict get, 1 client", "dict_get_1_per_s", "Manager().dict() get",
                            "mp_dict_get_1_per_s", Target.none()),
                    runs.alone(name(), "unary floor: health check, 1 client", "ops/s", Better.HIGHER,
                            "health_1_per_s", Target.none()));
        } finally {
            if (!clients.isEmpty()) {
                cleanUp(clients.getFirst(), prefix);
            }
            clients.forEach(Client::close);
        }
    }

    private Row row(Runs runs, String metric, String forkdFigure, String peer, String peerFigure, Target target) {
        Row r = runs.compare(name(), metric, "ops/s", Better.HIGHER, forkdFigure, PEER, peerFigure, target);
        return new Row(r.scenario(), r.metric(), r.unit(), r.better(), r.forkd(), peer, r.peerFigure(),
                r.target(), r.note());
    }

    /** One client: its own connection and session, and stubs that carry the session. */
    private record Client(int index, ForkdClient connection, ClientSession session, SyncServiceBlockingStub sync,
            SharedServiceBlockingStub shared, HealthBlockingStub health) {

        static Client open(ForkdClient c, int index) {
            ClientSession s = c.openSession("bench-sync-" + index, Duration.ofSeconds(10), Duration.ofSeconds(30));
            var header = ForkdClient.sessionHeader(s.credential());
            return new Client(index, c, s, c.sync().withInterceptors(header), c.shared().withInterceptors(header),
                    HealthGrpc.newBlockingStub(c.channel()));
        }

        void close() {
            session.close();
            connection.close();
        }
    }

    /** One operation by one client; it throws if the server did not do what was asked. */
    @FunctionalInterface
    private interface Op {
        void run(Client c);
    }

    private static Map<String, Double> forkd(List<Client> clients, String prefix, Duration window) throws Exception {
        List<Client> one = clients.subList(0, 1);
        String counter = prefix + "-counter";
        String dict = prefix + "-dict";
        Scalar plusOne = Scalar.newBuilder().setInt64Value(1).build();
        clients.getFirst().shared().setDictItems(SetDictItemsRequest.newBuilder().setName(dict)
                .addItems(DictItem.newBuilder().setKey("k").setValue(plusOne)).build());
        Op health = c -> c.health().check(HealthCheckRequest.getDefaultInstance());
        Op ownLock = c -> lockOnce(c, prefix + "-lock-" + c.index());
        Op oneLock = c -> lockOnce(c, prefix + "-lock");
        Op add = c -> c.shared().addValue(AddValueRequest.newBuilder().setName(counter).setDelta(plusOne).build());
        Op get = c -> {
            if (!c.shared().getDictItem(GetDictItemRequest.newBuilder().setName(dict).setKey("k").build()).getFound()) {
                throw new IllegalStateException("dict " + dict + " lost its key");
            }
        };
        Map<String, Double> f = new HashMap<>();
        f.put("health_1_per_s", rate(one, window, health));
        f.put("lock_1_per_s", rate(one, window, ownLock));
        f.put("lock_own_per_s", rate(clients, window, ownLock));
        f.put("lock_one_per_s", rate(clients, window, oneLock));
        f.put("add_1_per_s", counted(one, window, add, counter));
        f.put("add_n_per_s", counted(clients, window, add, counter));
        f.put("dict_get_1_per_s", rate(one, window, get));
        return f;
    }

    private static void lockOnce(Client c, String name) {
        // A timeout, so that a lock that is never granted fails the run instead of hanging it.
        if (!c.sync().acquire(AcquireRequest.newBuilder().setName(name).setTimeout(Durations.fromSeconds(60)).build())
                .getAcquired()) {
            throw new IllegalStateException("lock " + name + " not acquired within 60 s");
        }
        c.sync().release(ReleaseRequest.newBuilder().setName(name).build());
    }

    /** {@link #rate} of increments to {@code counter}, checked against the counter's value. */
    private static double counted(List<Client> clients, Duration window, Op add, String counter) throws Exception {
        SharedServiceBlockingStub shared = clients.getFirst().shared();
        shared.setValue(SetValueRequest.newBuilder().setName(counter)
                .setValue(Scalar.newBuilder().setInt64Value(0)).build());
        LongAdder ops = new LongAdder();
        double perSecond = rate(clients, window, c -> {
            add.run(c);
            ops.increment();
        });
        long value = shared.getValue(GetValueRequest.newBuilder().setName(counter).build()).getValue().getInt64Value();
        if (value != ops.sum()) {
            throw new IllegalStateException("counter " + counter + " is " + value + " after " + ops.sum() + " adds");
        }
        return perSecond;
    }

    /**
     * Operations per second: every client runs {@code op} in a row on its own thread, from one
     * start for {@code window}; counted until the last one is done.
     */
    private static double rate(List<Client> clients, Duration window, Op op) throws Exception {
        for (Client c : clients) {
            op.run(c); // outside the clock: a first call may set up the name
        }
        LongAdder ops = new LongAdder();
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(clients.size());
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (Client c : clients) {
            Thread.ofPlatform().daemon().name("bench-sync-client-" + c.index()).start(() -> {
                try {
                    start.await();
                    long end = System.nanoTime() + window.toNanos();
                    while (System.nanoTime() < end) {
                        op.run(c);
                        ops.increment();
                    }
                } catch (Throwable t) {
                    failures.add(t);
                } finally {
                    done.countDown();
                }
            });
        }
        long t0 = System.nanoTime();
        start.countDown();
        if (!done.await(window.toSeconds() + 120, TimeUnit.SECONDS)) {
            throw new TimeoutException("clients still busy 120 s after a " + window.toMillis() + " ms window");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!failures.isEmpty()) {
            Throwable t = failures.getFirst();
            throw t instanceof Exception e ? e : new IllegalStateException(t);
        }
        return ops.sum() / seconds;
    }

    /** Deletes what the scenario made, so that a shared server is left as it was found. */
    private static void cleanUp(Client c, String prefix) {
        List<String> locks = new ArrayList<>(List.of(prefix + "-lock"));
        for (int i = 0; i < CLIENTS; i++) {
            locks.add(prefix + "-lock-" + i);
        }
        for (String name : locks) {
            try {
                c.sync().delete(DeleteSyncRequest.newBuilder().setName(name).build());
            } catch (StatusRuntimeException e) {
                // never made (an earlier failure) or already gone
            }
        }
        for (String name : List.of(prefix + "-counter", prefix + "-dict")) {
            try {
                c.shared().delete(DeleteSharedRequest.newBuilder().setName(name).build());
            } catch (StatusRuntimeException e) {
                // never made or already gone
            }
        }
    }
}
