package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 13's "done means": a real {@code forkd serve} with a state directory is SIGKILLed (the
 * supervisor alone) at random moments under a mixed workload (short and long children, a durable
 * queue with a producer and an acking consumer, two holders of one lock, a shared counter and dict,
 * ApplyAsync tasks on a kept pool and maps through the Java library),
 * and started again on the same directory. After each restart, with the traffic paused: every child
 * whose spawn was answered still runs or has its true exit code; no acknowledged queue item is lost
 * and none is delivered twice unless its ack may not have been stored; no fencing token repeats;
 * the counter holds every acknowledged add; the lock holders' sessions resumed; every acknowledged
 * ApplyAsync task yields its own result. After the final
 * SIGTERM no process of any incarnation is left.
 *
 * <p>{@code -Dforkd.restartChaos.kills=N} (default 4, which fits the build's 3 minutes on a loaded machine; issue 13 asks for 50 or
 * more: {@code client-cli/restart-chaos-long.sh}, 60 by default), {@code -Dforkd.restartChaos.seed=S} to replay.
 *
 * <p>Each check is on once the feature it checks is on main; until then its findings are printed,
 * never counted as passing (see the CHECK_ constants).
 */
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class RestartChaosTest {

    /**
     * Agents keep their children over a supervisor crash and the next one adopts them (issue 13, r1).
     * Seed 28109657713736 once found a short child that exited with 27 just as the supervisor died
     * reported LOST: its exit had been sent on the old stream, so the agent's registration did not
     * name it and the restore finished before the replayed exit arrived. A registration now names the
     * children whose exits the last supervisor may not have applied.
     */
    static final boolean CHECK_CHILDREN = true;
    /** Durable queues are kept in the state store (r4). */
    static final boolean CHECK_DURABLE_QUEUE = true;
    /** Sessions are kept and resumed, and the fencing counter never goes back (r2). */
    static final boolean CHECK_SESSIONS_AND_FENCING = true;
    /** Shared values and dicts are kept in the state store (r3). */
    static final boolean CHECK_SHARED = true;
    /** Pools, their ApplyAsync tasks and uncollected results are kept (r5); maps answer in order. */
    static final boolean CHECK_POOLS = true;

    @Test
    void aSupervisorKilledAtRandomLosesNothingItAcknowledged() throws Exception {
        int kills = Integer.getInteger("forkd.restartChaos.kills", 4);
        long seed = Long.getLong("forkd.restartChaos.seed", System.nanoTime());
        System.out.printf("restart-chaos: seed %d, kills %d, checks: children %s, durable queue %s,"
                + " sessions+fencing %s, shared %s, pools %s%n", seed, kills, CHECK_CHILDREN, CHECK_DURABLE_QUEUE,
                CHECK_SESSIONS_AND_FENCING, CHECK_SHARED, CHECK_POOLS);
        Random random = new Random(seed);
        List<String> problems = new ArrayList<>();
        List<long[]> outages = new ArrayList<>(); // {killed, listening again} in nanoTime, guarded by itself
        List<Long> tokens = new ArrayList<>();
        RestartableServer server = RestartableServer.start(List.of());
        boolean passed = false;
        List<ForkdClient> clients = new ArrayList<>();
        Traffic traffic = null;
        try {
            ListenAddress address = new ListenAddress.Unix(server.socket);
            java.util.function.Supplier<ForkdClient> newClient = () -> {
                ForkdClient c = ForkdClient.connect(address, Optional.empty(), Optional.empty());
                clients.add(c);
                return c;
            };
            ChildrenWorkload children = new ChildrenWorkload(newClient.get(), server, random.nextLong());
            QueueWorkload queue = new QueueWorkload(newClient.get(), random.nextLong(), outages);
            queue.ensureQueue();
            LockWorkload lockA = new LockWorkload(newClient.get(), "a", random.nextLong(), tokens);
            LockWorkload lockB = new LockWorkload(newClient.get(), "b", random.nextLong(), tokens);
            SharedWorkload shared = new SharedWorkload(newClient.get());
            PoolWorkload pool = new PoolWorkload(newClient.get(), "unix:" + server.socket);
            traffic = new Traffic(List.of(children, queue, queue.consumer(), lockA, lockB, shared, pool));
            traffic.start();
            long started = System.nanoTime();
            for (int kill = 1; kill <= kills; kill++) {
                final int k = kill;
                // A random moment: the traffic runs meanwhile; this wait is the chaos, not a synchronisation.
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300 + random.nextInt(1500)));
                long killed = System.nanoTime();
                server.sigkill();
                server.startAgain();
                long listening = System.nanoTime();
                synchronized (outages) {
                    outages.add(new long[] {killed, listening});
                }
                traffic.pause();
                int before = problems.size();
                try {
                    problems.addAll(children.verify(k, CHECK_CHILDREN));
                    problems.addAll(queue.verify(k, CHECK_DURABLE_QUEUE));
                    problems.addAll(lockA.verifySession(k, CHECK_SESSIONS_AND_FENCING));
                    problems.addAll(lockB.verifySession(k, CHECK_SESSIONS_AND_FENCING));
                    if (CHECK_SESSIONS_AND_FENCING) {
                        problems.addAll(LockWorkload.tokenProblems(tokens).stream().map(p -> "restart " + k + ": " + p).toList());
                        problems.addAll(LockWorkload.heldUnknowingly(clients.get(0), List.of(lockA, lockB), k));
                    } else {
                        synchronized (tokens) {
                            tokens.clear(); // a counter that starts over is not judged: start the record over too
                        }
                    }
                    problems.addAll(shared.verify(k, CHECK_SHARED));
                    problems.addAll(pool.verify(k, CHECK_POOLS));
                } finally {
                    traffic.resume();
                }
                System.out.printf("restart-chaos: kill %d: listening again after %d ms, checked in %d ms, %d problems%n",
                        k, (listening - killed) / 1_000_000, (System.nanoTime() - listening) / 1_000_000,
                        problems.size() - before);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            traffic.stop();
            problems.addAll(traffic.problems());
            if (CHECK_DURABLE_QUEUE) {
                problems.addAll(queue.drainAndFindLost());
            }
            System.out.printf("restart-chaos: %d kills in %.1f s; %s%n", kills, seconds, traffic.figures());
            passed = problems.isEmpty();
        } finally {
            if (traffic != null) {
                traffic.close();
            }
            clients.forEach(ForkdClient::close);
            List<String> survivors = server.stopAndListSurvivors(Duration.ofSeconds(60));
            survivors.forEach(s -> problems.add("left running after the final SIGTERM: " + s));
            if (!problems.isEmpty()) {
                System.out.println("restart-chaos: server log tail:\n" + server.stderrTail());
            }
            server.cleanUp(!passed);
        }
        System.out.println("restart-chaos: problems " + problems.size());
        assertTrue(problems.isEmpty(), problems.size() + " problems (seed " + seed + ", directory " + server.dir + "):\n  "
                + String.join("\n  ", problems.subList(0, Math.min(60, problems.size()))));
    }

    /**
     * One thread per workload, stepping until stopped; paused (between steps) while a restart is
     * checked. A refused step backs off a moment, as a client whose server is away would.
     */
    private static final class Traffic implements AutoCloseable {
        private static final Duration BACKOFF = Duration.ofMillis(50);

        private final List<RestartWorkload> workloads;
        private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
        private final AtomicBoolean stopping = new AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();
        private final Map<String, Integer> failures = new ConcurrentHashMap<>();
        private final List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());

        Traffic(List<RestartWorkload> workloads) {
            this.workloads = workloads;
        }

        void start() {
            for (RestartWorkload w : workloads) {
                Thread t = new Thread(() -> run(w), "chaos-" + w.name());
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        private void run(RestartWorkload w) {
            while (!stopping.get()) {
                boolean refused = false;
                gate.readLock().lock();
                try {
                    w.step();
                } catch (StatusRuntimeException e) {
                    refused = true;
                    Status.Code code = e.getStatus().getCode();
                    failures.merge(w.name() + " " + code + " " + gist(e.getStatus()), 1, Integer::sum);
                    if ((code == Status.Code.UNKNOWN || code == Status.Code.INTERNAL) && !clientSideClose(e.getStatus())) {
                        problems.add(w.name() + ": " + e.getStatus());
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    problems.add(w.name() + ": " + e);
                    refused = true;
                } finally {
                    gate.readLock().unlock();
                }
                if (refused) {
                    LockSupport.parkNanos(BACKOFF.toNanos()); // a documented back-off, as a real client's
                }
            }
        }

        /**
         * grpc-java's own client status for a write onto a connection that the dying server reset
         * (grpc/grpc-java#10120): made in this JVM, not answered by the server.
         */
        private static boolean clientSideClose(Status s) {
            return s.getCode() == Status.Code.UNKNOWN && "channel closed".equals(s.getDescription());
        }

        /** A status's description without its numbers, short: refusals of one kind count together. */
        private static String gist(Status s) {
            String d = String.valueOf(s.getDescription()).replaceAll("[0-9]+", "N");
            return d.substring(0, Math.min(60, d.length()));
        }

        void pause() {
            gate.writeLock().lock();
        }

        void resume() {
            gate.writeLock().unlock();
        }

        void stop() throws InterruptedException {
            stopping.set(true);
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(60));
                if (t.isAlive()) {
                    problems.add(t.getName() + " did not stop within 60 s");
                    t.interrupt();
                }
            }
        }

        List<String> problems() {
            return List.copyOf(problems);
        }

        String figures() {
            StringBuilder b = new StringBuilder();
            for (RestartWorkload w : workloads) {
                String f = w.figures();
                if (!f.isEmpty()) {
                    b.append(w.name()).append(": ").append(f).append("; ");
                }
            }
            return b + "refused steps " + new TreeMap<>(failures);
        }

        @Override
        public void close() {
            stopping.set(true);
            workloads.forEach(RestartWorkload::close);
        }
    }
}
