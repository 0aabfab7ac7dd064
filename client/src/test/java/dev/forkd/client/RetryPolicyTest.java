package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.v1.EventServiceGrpc;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.GetProcessResponse;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.JoinProcessResponse;
import dev.forkd.v1.PipeServiceGrpc;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProgramServiceGrpc;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.SpawnResponse;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The retry policy every forkd channel carries, against a stand-in server on a real Unix socket: what
 * changes nothing is repeated on UNAVAILABLE, what changes something is not, and a call in flight when
 * its server goes away is answered by the server that takes its place.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RetryPolicyTest {

    @org.junit.jupiter.api.extension.RegisterExtension
    final StandInServers stands = new StandInServers("fkr");

    @Test
    void everyListedMethodExistsAndNoneChangesState() {
        Set<String> known = new HashSet<>();
        for (ServiceDescriptor sd : List.of(ProcessServiceGrpc.getServiceDescriptor(),
                ProgramServiceGrpc.getServiceDescriptor(), EventServiceGrpc.getServiceDescriptor(),
                QueueServiceGrpc.getServiceDescriptor(), PipeServiceGrpc.getServiceDescriptor(),
                PoolServiceGrpc.getServiceDescriptor(), SharedServiceGrpc.getServiceDescriptor(),
                SyncServiceGrpc.getServiceDescriptor(), SessionServiceGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> m : sd.getMethods()) {
                known.add(m.getFullMethodName());
            }
        }
        known.add("grpc.health.v1.Health/Check");
        for (String m : RetryPolicy.IDEMPOTENT_METHODS) {
            assertTrue(known.contains(m), m + " is not a method of any forkd service");
        }
        // A repeat of any of these could do twice what was asked once.
        for (String never : List.of("ProcessService/Spawn", "ProcessService/Signal", "ProcessService/Delete",
                "ProcessService/WriteStdin", "QueueService/Put", "QueueService/Take", "QueueService/Produce",
                "QueueService/Consume", "QueueService/TaskDone", "QueueService/Create", "SyncService/Acquire",
                "SyncService/Release", "SyncService/WaitBarrier", "SyncService/WaitCondition",
                "SharedService/AddValue", "SharedService/SetValue", "SharedService/AppendList",
                "SharedService/PopList", "PoolService/Apply", "PoolService/ApplyAsync", "PoolService/Map",
                "PipeService/Send", "PipeService/Recv", "SessionService/Open", "SessionService/Close")) {
            assertFalse(RetryPolicy.repeats("forkd.v1." + never), never + " must not be repeated");
        }
    }

    @Test
    void aReadIsRepeatedWhileTheServerAnswersUnavailable() throws Exception {
        Stand stand = new Stand(2, false);
        stands.serve(stand, stands.dir().resolve("s.sock"));
        try (ForkdClient client = stands.connect()) {
            GetProcessResponse got = client.processes().withDeadlineAfter(60, TimeUnit.SECONDS)
                    .get(GetProcessRequest.newBuilder().setName("p-1").build());
            assertEquals("p-1", got.getProcess().getId());
            assertEquals(3, stand.gets.get(), "two refusals, then the answer");
        }
    }

    @Test
    void aSpawnIsNotRepeated() throws Exception {
        Stand stand = new Stand(2, false);
        stands.serve(stand, stands.dir().resolve("s.sock"));
        try (ForkdClient client = stands.connect()) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> client.processes()
                    .withDeadlineAfter(60, TimeUnit.SECONDS).spawn(SpawnRequest.newBuilder().addArgv("true").build()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertEquals(1, stand.spawns.get(), "a spawn the server may have carried out is not sent again");
        }
    }

    @Test
    void aJoinInFlightWhenItsServerGoesIsAnsweredByTheNextServer() throws Exception {
        // The client dials s.sock, a link to the server of the moment, as a restarted server takes
        // its predecessor's path; the link moves before the old server goes, so the repeat finds the
        // next one at once and the test waits on no timing.
        Path socket = stands.dir().resolve("s.sock");
        Stand first = new Stand(0, true);
        Server old = stands.serve(first, stands.dir().resolve("old.sock"));
        Files.createSymbolicLink(socket, stands.dir().resolve("old.sock"));
        try (ForkdClient client = stands.connect()) {
            CompletableFuture<JoinProcessResponse> join = CompletableFuture.supplyAsync(() -> client.processes()
                    .withDeadlineAfter(60, TimeUnit.SECONDS).join(JoinProcessRequest.newBuilder().setName("p-1").build()));
            assertTrue(first.joinArrived.await(30, TimeUnit.SECONDS), "the join reached the first server");
            Stand next = new Stand(0, false);
            stands.serve(next, stands.dir().resolve("next.sock"));
            Path link = stands.dir().resolve("link.tmp");
            Files.createSymbolicLink(link, stands.dir().resolve("next.sock"));
            Files.move(link, socket, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            old.shutdown(); // no new calls on its connection
            first.goAway();
            JoinProcessResponse r = join.get(60, TimeUnit.SECONDS);
            assertEquals("p-1", r.getProcess().getId());
            assertEquals(1, first.joins.get(), "the first server saw the join once");
            assertEquals(1, next.joins.get(), "the next server answered the repeated join");
        }
    }

    @Test
    void aServerThatComesBackAfterALongAbsenceIsFoundWithinAboutASecond() throws Exception {
        try (ForkdClient client = stands.connect()) {
            io.grpc.ManagedChannel channel = client.channel();
            channel.getState(true); // dial now: nothing listens yet
            // The server stays away ~10 s: gRPC's own back-off has then grown to ~6.5 s between dials
            // (1, 1.6, 2.6, 4.1, 6.5 s), so without pacing the next dial would come seconds late.
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(10));
            stands.serve(new Stand(0, false), stands.dir().resolve("s.sock"));
            long back = System.nanoTime();
            CountDownLatch ready = new CountDownLatch(1);
            awaitReady(channel, ready);
            assertTrue(ready.await(30, TimeUnit.SECONDS), "the channel connected");
            long millis = (System.nanoTime() - back) / 1_000_000;
            assertTrue(millis < 4000, "found the server " + millis + " ms after it came back");
        }
    }

    private static void awaitReady(io.grpc.ManagedChannel channel, CountDownLatch ready) {
        io.grpc.ConnectivityState now = channel.getState(false);
        if (now == io.grpc.ConnectivityState.READY) {
            ready.countDown();
        } else {
            channel.notifyWhenStateChanged(now, () -> awaitReady(channel, ready));
        }
    }



    /**
     * A process service that refuses the first {@code refusals} gets and every spawn with UNAVAILABLE,
     * and answers joins, or holds them unanswered.
     */
    private static final class Stand extends ProcessServiceGrpc.ProcessServiceImplBase {
        final AtomicInteger gets = new AtomicInteger();
        final AtomicInteger spawns = new AtomicInteger();
        final AtomicInteger joins = new AtomicInteger();
        final CountDownLatch joinArrived = new CountDownLatch(1);
        private final int refusals;
        private final boolean holdsJoins;
        private final List<StreamObserver<JoinProcessResponse>> held = new java.util.concurrent.CopyOnWriteArrayList<>();

        Stand(int refusals, boolean holdsJoins) {
            this.refusals = refusals;
            this.holdsJoins = holdsJoins;
        }

        @Override
        public void get(GetProcessRequest request, StreamObserver<GetProcessResponse> out) {
            if (gets.incrementAndGet() <= refusals) {
                out.onError(Status.UNAVAILABLE.withDescription("restarting").asRuntimeException());
                return;
            }
            out.onNext(GetProcessResponse.newBuilder().setProcess(info(request.getName())).build());
            out.onCompleted();
        }

        @Override
        public void spawn(SpawnRequest request, StreamObserver<SpawnResponse> out) {
            spawns.incrementAndGet();
            out.onError(Status.UNAVAILABLE.withDescription("restarting").asRuntimeException());
        }

        @Override
        public void join(JoinProcessRequest request, StreamObserver<JoinProcessResponse> out) {
            joins.incrementAndGet();
            if (holdsJoins) {
                held.add(out);
                joinArrived.countDown();
                return; // held until this server goes away
            }
            out.onNext(JoinProcessResponse.newBuilder().setProcess(info(request.getName())).build());
            out.onCompleted();
        }

        /** What a server that stops, or whose connection breaks, leaves its callers with. */
        void goAway() {
            held.forEach(o -> o.onError(Status.UNAVAILABLE.withDescription("the server is going away").asRuntimeException()));
        }

        private static ProcessInfo info(String id) {
            return ProcessInfo.newBuilder().setId(id).build();
        }
    }
}
