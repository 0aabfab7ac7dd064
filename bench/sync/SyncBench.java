/*
 * forkd sync/shared benchmark driver: lock acquire+release and shared-counter increments per second,
 * with one client and with several, against a running forkd server. One JSON line per figure.
 *
 * Run (single-file source launcher, with the CLI's classpath):
 *   java --enable-native-access=ALL-UNNAMED -cp "client-cli/target/forkd-cli.jar:client-cli/target/lib/*" \
 *       bench/sync/SyncBench.java --address unix:/path/to/s.sock [--seconds 5] [--clients 4]
 *
 * Each client is its own connection and its own session (like separate processes would be), and
 * each operation is one unary call, as the CLI and a simple client make them.
 */
import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.server.config.ListenAddress;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AddValueRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.Scalar;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.LongAdder;

public class SyncBench {

    interface Op {
        void run(ForkdClient client, String session) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        String address = null;
        int seconds = 5;
        int clients = 4;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--address" -> address = args[++i];
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (address == null) {
            address = System.getenv("FORKD_ADDRESS");
        }
        ListenAddress server = new ListenAddress.Unix(Path.of(address.substring("unix:".length())));
        String run = Long.toHexString(System.nanoTime());

        Op lockUncontended = (c, s) -> {
            var sync = c.sync().withInterceptors(ForkdClient.sessionHeader(s));
            String name = "bench-lock-" + run + "-" + s;
            sync.acquire(AcquireRequest.newBuilder().setName(name).build());
            sync.release(ReleaseRequest.newBuilder().setName(name).build());
        };
        Op lockContended = (c, s) -> {
            var sync = c.sync().withInterceptors(ForkdClient.sessionHeader(s));
            String name = "bench-lock-" + run;
            sync.acquire(AcquireRequest.newBuilder().setName(name).build());
            sync.release(ReleaseRequest.newBuilder().setName(name).build());
        };
        Scalar one = Scalar.newBuilder().setInt64Value(1).build();
        Op add = (c, s) -> c.shared().addValue(AddValueRequest.newBuilder().setName("bench-counter-" + run).setDelta(one).build());

        // The floor: one unary call that does nothing (gRPC health check) over the same connection.
        Op health = (c, s) -> c.health().check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance());

        // Warm the JIT on both sides, then measure.
        measure(server, 2, 1, lockUncontended, null);
        measure(server, 2, 1, add, null);
        measure(server, 2, 1, health, null);
        measure(server, seconds, 1, health, "forkd_unary_health_check");
        measure(server, seconds, 1, lockUncontended, "forkd_lock_acquire_release");
        measure(server, seconds, clients, lockUncontended, "forkd_lock_acquire_release_uncontended");
        measure(server, seconds, clients, lockContended, "forkd_lock_acquire_release_contended");
        measure(server, seconds, 1, add, "forkd_counter_add");
        measure(server, seconds, clients, add, "forkd_counter_add");
    }

    static void measure(ListenAddress server, int seconds, int clients, Op op, String label) throws Exception {
        LongAdder ops = new LongAdder();
        CyclicBarrier start = new CyclicBarrier(clients + 1);
        long[] window = new long[1];
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int i = 0; i < clients; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try (ForkdClient c = ForkdClient.connect(server, Optional.empty(), Optional.empty());
                        ClientSession s = c.openSession("bench", Duration.ofSeconds(10), Duration.ofSeconds(10))) {
                    op.run(c, s.id());
                    start.await();
                    long end = System.nanoTime() + seconds * 1_000_000_000L;
                    while (System.nanoTime() < end) {
                        op.run(c, s.id());
                        ops.increment();
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        start.await();
        long t0 = System.nanoTime();
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        if (!failures.isEmpty()) {
            throw new RuntimeException("a client failed", failures.getFirst());
        }
        if (label != null) {
            System.out.printf("{\"bench\":\"%s\",\"clients\":%d,\"seconds\":%.2f,\"ops\":%d,\"ops_per_s\":%.0f}%n",
                    label, clients, elapsed, ops.sum(), ops.sum() / elapsed);
        }
    }
}
