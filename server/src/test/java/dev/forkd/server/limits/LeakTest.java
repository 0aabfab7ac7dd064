package dev.forkd.server.limits;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.suites.ProcTree;
import dev.forkd.server.suites.ServerProcess;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import io.grpc.Channel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Live children, then many spawn+join+delete (in the build 300 and 2,000, about 20 s; the long-run
 * script {@code server/chaos-long.sh} runs 2,000 and 10,000), against a real server in its own JVM: its
 * threads, fds and heap (after a full GC) end where they began, within the stated margins, and so
 * do its agents'. A first round of the same (as many live, up to 1,000 spawns) warms up first, so the
 * measured round starts from the heap, pools and JIT the load needs.
 *
 * <p>Margins: server threads +5, fds +10, heap after GC +16 MiB, RSS +48 MiB; agents RSS +48 MiB, threads +5,
 * fds +10. {@code -Dforkd.leaks.live=N} (default 300), {@code -Dforkd.leaks.spawns=N} (default 2,000).
 */
@Tag("limits")
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class LeakTest {

    private static final long MIB = 1 << 20;

    @Test
    void liveChildrenAndManySpawnsLeaveNoThreadFdOrHeapBehind() throws Exception {
        int live = Integer.getInteger("forkd.leaks.live", 300);
        int spawns = Integer.getInteger("forkd.leaks.spawns", 2_000);
        ServerProcess server = ServerProcess.start(2, 100_000, "512m", List.of());
        boolean passed = false;
        List<String> problems = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            Channel c = server.newChannel();
            var procs = ProcessServiceGrpc.newBlockingStub(c);
            // A first round of the same size grows the heap, pools and JIT to their working size; the
            // second must not grow. (A smaller warm-up left the JVM's committed heap and code cache
            // still growing: RSS +48 MiB with the heap after GC unchanged at 12 MiB.)
            liveChildren(clients, procs, live, problems, "warm-up");
            spawnJoinDelete(clients, procs, spawns);
            Footprint before = Footprint.of(server);
            System.out.println("leaks: before   " + before);

            liveChildren(clients, procs, live, problems, "measured");
            long t1 = System.nanoTime();
            spawnJoinDelete(clients, procs, spawns);
            System.out.printf("leaks: %d spawn+join+delete in %.1f s%n", spawns, (System.nanoTime() - t1) / 1e9);

            Footprint after = settled(server, before);
            System.out.println("leaks: after    " + after);
            check(problems, "server threads", before.serverThreads(), after.serverThreads(), 5);
            check(problems, "server fds", before.serverFds(), after.serverFds(), 10);
            check(problems, "server heap after GC (MiB)", before.serverHeapAfterGc() / MIB, after.serverHeapAfterGc() / MIB, 16);
            // RSS also holds what the JVM commits and does not give back (heap it grew into, compiled
            // code), so its margin is wider than the heap's; a leak of objects shows in the heap after GC.
            check(problems, "server RSS (MiB)", before.serverRss() / MIB, after.serverRss() / MIB, 48);
            // The same for an agent, which since it outlives its supervisor also keeps its last 4,096
            // lifecycle events for a next one (a bounded deque): a fresh-clone run saw +33 MiB.
            check(problems, "agents RSS (MiB)", before.agentsRss() / MIB, after.agentsRss() / MIB, 48);
            check(problems, "agent threads", before.agentsThreads(), after.agentsThreads(), 5);
            check(problems, "agent fds", before.agentsFds(), after.agentsFds(), 10);
            List<ProcTree.Stat> left = ProcTree.descendants(server.pid()).stream()
                    .filter(s -> !server.agentPids().contains(s.pid())).toList();
            if (!left.isEmpty()) {
                problems.add("left under the server: " + left.subList(0, Math.min(10, left.size())));
            }
            int records = procs.withDeadlineAfter(60, TimeUnit.SECONDS).list(ListProcessesRequest.getDefaultInstance()).getProcessesCount();
            if (records != 0) {
                problems.add(records + " process records left after every one was deleted");
            }
            passed = problems.isEmpty();
        } finally {
            clients.shutdownNow();
            server.close(!passed);
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** {@code n} live children at once, then all killed, joined and deleted. */
    private static void liveChildren(ExecutorService clients, ProcessServiceGrpc.ProcessServiceBlockingStub procs, int n,
            List<String> problems, String round) throws Exception {
        long t0 = System.nanoTime();
        List<String> ids = Collections.synchronizedList(new ArrayList<>());
        run(clients, n, i -> ids.add(procs.withDeadlineAfter(60, TimeUnit.SECONDS)
                .spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("100000").build()).getProcess().getId()));
        int running = 0;
        String token = "";
        do {
            var page = procs.withDeadlineAfter(60, TimeUnit.SECONDS).list(ListProcessesRequest.newBuilder()
                    .addStates(ProcessState.PROCESS_STATE_RUNNING).setPageToken(token).build());
            running += page.getProcessesCount();
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        System.out.printf("leaks: %s: %d live (%d running) in %.1f s%n", round, n, running, (System.nanoTime() - t0) / 1e9);
        if (running != n) {
            problems.add(round + ": " + running + " of " + n + " children running");
        }
        run(clients, ids.size(), i -> procs.withDeadlineAfter(60, TimeUnit.SECONDS).signal(SignalRequest.newBuilder()
                .setName(ids.get(i)).setKind(SignalKind.SIGNAL_KIND_KILL).build()));
        run(clients, ids.size(), i -> {
            procs.withDeadlineAfter(60, TimeUnit.SECONDS).join(JoinProcessRequest.newBuilder().setName(ids.get(i))
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(30)).build());
            procs.withDeadlineAfter(60, TimeUnit.SECONDS).delete(DeleteProcessRequest.newBuilder().setName(ids.get(i)).build());
        });
    }

    interface Step {
        void run(int i) throws Exception;
    }

    /** Runs {@code n} steps on the client threads; rethrows the first failure. */
    private static void run(ExecutorService clients, int n, Step step) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            workers.add(clients.submit(() -> {
                for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                    step.run(i);
                }
                return null;
            }));
        }
        for (Future<?> f : workers) {
            f.get(20, TimeUnit.MINUTES);
        }
    }

    private static void spawnJoinDelete(ExecutorService clients, ProcessServiceGrpc.ProcessServiceBlockingStub procs,
            int n) throws Exception {
        run(clients, n, i -> {
            String id = procs.withDeadlineAfter(60, TimeUnit.SECONDS).spawn(SpawnRequest.newBuilder().addArgv("true").build())
                    .getProcess().getId();
            procs.withDeadlineAfter(60, TimeUnit.SECONDS).join(JoinProcessRequest.newBuilder().setName(id)
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(30)).build());
            procs.withDeadlineAfter(60, TimeUnit.SECONDS).delete(DeleteProcessRequest.newBuilder().setName(id).build());
        });
    }

    /** Threads that served the load end on their pools' keep-alive: give them up to 90 s to go. */
    private static Footprint settled(ServerProcess server, Footprint before) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            if (ProcTree.threads(server.pid()) <= before.serverThreads() + 5 || System.nanoTime() > deadline) {
                return Footprint.of(server);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
        }
    }

    private static void check(List<String> problems, String what, long before, long after, long margin) {
        if (after > before + margin) {
            problems.add(what + " grew from " + before + " to " + after + " (margin +" + margin + ")");
        }
    }
}
