package dev.forkd.server.it;

import static dev.forkd.server.testing.Observers.observer;
import static dev.forkd.server.testing.ErrorDetails.field;
import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import dev.forkd.v1.AbortBarrierRequest;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.ApplyRequest;
import dev.forkd.v1.CloseQueueRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.CreateSyncRequest;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.TerminatePoolRequest;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.CloseSessionRequest;
import dev.forkd.v1.Event;
import dev.forkd.v1.EventKind;
import dev.forkd.v1.EventServiceGrpc;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.RestartPolicy;
import dev.forkd.v1.RestartSpec;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.WatchEventsRequest;
import dev.forkd.v1.WatchEventsResponse;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** EventService.Watch against a real server with real agents and children. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EventStreamTest {

    private static final Metadata.Key<String> SESSION = Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER);
    private static final long WAIT_SECONDS = EventWatcher.WAIT_SECONDS;
    private static ObservedServer forkd;

    @BeforeAll
    static void start() throws Exception {
        forkd = new ObservedServer(1, 0);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    private static EventServiceGrpc.EventServiceStub events() {
        return EventServiceGrpc.newStub(forkd.channel);
    }

    private static Predicate<Event> about(String id, EventKind kind) {
        return e -> e.getId().equals(id) && e.getKind() == kind;
    }

    private static ProcessInfo spawn(SpawnRequest.Builder r) {
        return forkd.processes().spawn(r.build()).getProcess();
    }

    private static SpawnRequest.Builder cmd(String... argv) {
        return SpawnRequest.newBuilder().addAllArgv(List.of(argv));
    }

    @Test
    void aProcessLifeIsSeenAsStartedThenExitedWithItsLabelsPidLatencyAndExitCode() throws Exception {
        try (EventWatcher w = new EventWatcher(events(), WatchEventsRequest.getDefaultInstance())) {
            ProcessInfo p = spawn(cmd("sh", "-c", "exit 3").putLabels("suite", "events"));
            Event started = w.next(about(p.getId(), EventKind.EVENT_KIND_PROCESS_STARTED));
            assertEquals("process", started.getResourceType());
            assertEquals(Integer.toString(p.getPid()), started.getAttributesOrThrow("pid"));
            assertEquals("events", started.getLabelsOrThrow("suite"));
            assertTrue(started.hasDuration(), "spawn latency");
            Event exited = w.next(about(p.getId(), EventKind.EVENT_KIND_PROCESS_EXITED));
            assertEquals("3", exited.getAttributesOrThrow("exit_code"));
            assertEquals("exited", exited.getAttributesOrThrow("cause"));
            assertTrue(exited.getSequence() > started.getSequence());
        }
    }

    @Test
    void restartsAndFatalAreEvents() throws Exception {
        try (EventWatcher w = new EventWatcher(events(), WatchEventsRequest.newBuilder().addNames("flaky").build())) {
            ProcessInfo p = spawn(cmd("sh", "-c", "exit 1").setName("flaky").setRestart(RestartSpec.newBuilder()
                    .setPolicy(RestartPolicy.RESTART_POLICY_ON_FAILURE).setMaxRestarts(1)
                    .setInitialBackoff(Duration.newBuilder().setNanos(10_000_000))));
            List<Event> before = new ArrayList<>();
            Event restarting = w.next(about(p.getId(), EventKind.EVENT_KIND_PROCESS_RESTARTING), before);
            assertEquals("1", restarting.getAttributesOrThrow("exit_code"));
            Event second = w.next(about(p.getId(), EventKind.EVENT_KIND_PROCESS_STARTED));
            assertEquals("1", second.getAttributesOrThrow("run"));
            Event fatal = w.next(about(p.getId(), EventKind.EVENT_KIND_PROCESS_FATAL));
            assertTrue(fatal.getAttributesOrThrow("reason").contains("max_restarts 1"), fatal.toString());
            assertEquals("flaky", fatal.getName());
        }
    }

    @Test
    void filtersByKindAndLabelLeaveOthersOut() throws Exception {
        WatchEventsRequest onlyExits = WatchEventsRequest.newBuilder()
                .addKinds(EventKind.EVENT_KIND_PROCESS_EXITED).putLabels("app", "wanted").build();
        try (EventWatcher w = new EventWatcher(events(), onlyExits)) {
            ProcessInfo other = spawn(cmd("true").putLabels("app", "other"));
            forkd.processes().join(JoinProcessRequest.newBuilder().setName(other.getId()).build());
            ProcessInfo wanted = spawn(cmd("true").putLabels("app", "wanted"));
            List<Event> skipped = new ArrayList<>();
            w.next(about(wanted.getId(), EventKind.EVENT_KIND_PROCESS_EXITED), skipped);
            // Published in order: the other process's events came before, and none reached this watcher.
            assertEquals(List.of(), skipped);
        }
    }

    @Test
    void aLockWhoseHolderSessionEndedIsGrantedAsAbandonedToTheNextSession() throws Exception {
        String lock = "ev-lock-" + System.nanoTime();
        Opened a = open("holder");
        Opened b = open("next");
        try (EventWatcher w = new EventWatcher(events(), WatchEventsRequest.newBuilder()
                .addKinds(EventKind.EVENT_KIND_LOCK_GRANTED).addNames(lock).build())) {
            as(SyncServiceGrpc.newBlockingStub(forkd.channel), a.credential()).acquire(
                    AcquireRequest.newBuilder().setName(lock).build());
            Event first = w.next(e -> true);
            assertEquals("false", first.getAttributesOrThrow("abandoned"));
            assertEquals(a.id(), first.getSession());
            CompletableFuture<AcquireResponse> waiting = new CompletableFuture<>();
            as(SyncServiceGrpc.newStub(forkd.channel), b.credential()).acquire(
                    AcquireRequest.newBuilder().setName(lock).build(), observer(waiting));
            as(SessionServiceGrpc.newBlockingStub(forkd.channel), a.credential())
                    .close(CloseSessionRequest.getDefaultInstance());
            Event second = w.next(e -> true);
            assertEquals("true", second.getAttributesOrThrow("abandoned"));
            assertEquals(b.id(), second.getSession());
            assertTrue(waiting.get(WAIT_SECONDS, TimeUnit.SECONDS).getAbandoned());
        } finally {
            a.stream().onCompleted();
            b.stream().onCompleted();
        }
    }

    @Test
    void aChildSeesItsOwnDescendantsEventsButNotAStrangersNorAgents() throws Exception {
        ProcessInfo child = spawn(cmd("sleep", "300"));
        String credential = credentialOf(child);
        try (EventWatcher w = new EventWatcher(as(events(), credential), WatchEventsRequest.getDefaultInstance())) {
            ProcessInfo stranger = spawn(cmd("true"));
            forkd.processes().join(JoinProcessRequest.newBuilder().setName(stranger.getId()).build());
            ProcessInfo mine = as(forkd.processes(), credential).spawn(cmd("true").build()).getProcess();
            List<Event> before = new ArrayList<>();
            w.next(about(mine.getId(), EventKind.EVENT_KIND_PROCESS_EXITED), before);
            assertFalse(before.stream().anyMatch(e -> e.getId().equals(stranger.getId())
                    || e.getResourceType().equals("agent")), before.toString());
        } finally {
            forkd.processes().signal(SignalRequest.newBuilder().setName(child.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build());
            forkd.processes().join(JoinProcessRequest.newBuilder().setName(child.getId()).build());
        }
    }

    @Test
    void queueCloseBarrierBreakAndAFailedPoolTaskAreEvents() throws Exception {
        String suffix = Long.toString(System.nanoTime());
        WatchEventsRequest dataPlane = WatchEventsRequest.newBuilder().addKinds(EventKind.EVENT_KIND_QUEUE_CLOSED)
                .addKinds(EventKind.EVENT_KIND_BARRIER_BROKEN).addKinds(EventKind.EVENT_KIND_POOL_TASK_FAILED).build();
        try (EventWatcher w = new EventWatcher(events(), dataPlane)) {
            var queues = QueueServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS);
            String queueId = queues.create(CreateQueueRequest.newBuilder().setName("q-ev-" + suffix).build())
                    .getQueue().getId();
            queues.close(CloseQueueRequest.newBuilder().setName("q-ev-" + suffix).build());
            Event closed = w.next(e -> e.getKind() == EventKind.EVENT_KIND_QUEUE_CLOSED);
            assertEquals(queueId, closed.getId());
            assertEquals("q-ev-" + suffix, closed.getName());

            var sync = SyncServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS);
            sync.create(CreateSyncRequest.newBuilder().setName("b-ev-" + suffix).setKind(SyncKind.SYNC_KIND_BARRIER)
                    .setParties(2).build());
            sync.abortBarrier(AbortBarrierRequest.newBuilder().setName("b-ev-" + suffix).build());
            Event broken = w.next(e -> e.getKind() == EventKind.EVENT_KIND_BARRIER_BROKEN);
            assertEquals("b-ev-" + suffix, broken.getId());
            assertEquals("2", broken.getAttributesOrThrow("parties"));

            var pools = PoolServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS);
            String pool = pools.create(CreatePoolRequest.newBuilder().setName("p-ev-" + suffix).setProcesses(1)
                    .putLabels("suite", "events").setWorker(WorkerSpec.newBuilder()
                            .setKind(WorkerKind.WORKER_KIND_PER_TASK).addAllArgv(List.of("sh", "-c", "exit {}"))).build())
                    .getPool().getId();
            pools.apply(ApplyRequest.newBuilder().setName(pool).setInput(TaskInput.newBuilder()
                    .setItem(com.google.protobuf.ByteString.copyFromUtf8("7"))).build());
            Event failed = w.next(e -> e.getKind() == EventKind.EVENT_KIND_POOL_TASK_FAILED);
            assertEquals(pool, failed.getId());
            assertEquals("events", failed.getLabelsOrThrow("suite"));
            assertEquals("exit", failed.getAttributesOrThrow("failure"));
            assertEquals("7", failed.getAttributesOrThrow("exit_code"));
            pools.terminate(TerminatePoolRequest.newBuilder().setName(pool).build());
        }
    }

    @Test
    void aFilterWithAnUnspecifiedKindIsRefusedAsInvalid() {
        var stub = EventServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.watch(WatchEventsRequest
                .newBuilder().addKinds(EventKind.EVENT_KIND_UNSPECIFIED).build()).hasNext());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("FIELD_INVALID", reason(e));
        assertEquals("kinds[0]", field(e));
    }

    private record Opened(String id, String credential, StreamObserver<OpenSessionRequest> stream) {}

    private static Opened open(String name) throws Exception {
        CompletableFuture<OpenSessionResponse> first = new CompletableFuture<>();
        StreamObserver<OpenSessionRequest> requests = SessionServiceGrpc.newStub(forkd.channel)
                .open(new StreamObserver<>() {
                    @Override
                    public void onNext(OpenSessionResponse r) {
                        first.complete(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        first.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        requests.onNext(OpenSessionRequest.newBuilder().setName(name).build());
        OpenSessionResponse r = first.get(WAIT_SECONDS, TimeUnit.SECONDS);
        return new Opened(r.getSessionId(), r.getCredential(), requests);
    }

    private static <S extends AbstractStub<S>> S as(S stub, String credential) {
        Metadata headers = new Metadata();
        headers.put(SESSION, credential);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** The child's credential, from its environment once exec has laid it out (see ChildRightsTest). */
    private static String credentialOf(ProcessInfo p) {
        Map<String, String>[] env = new Map[1];
        Eventually.await(java.time.Duration.ofSeconds(WAIT_SECONDS), () -> {
            try {
                env[0] = environOf(p.getPid());
                return p.getId().equals(env[0].get("FORKD_PROCESS_ID"));
            } catch (IOException e) {
                return false;
            }
        }, () -> "process " + p.getId() + " never showed its own environment");
        return env[0].get("FORKD_SESSION");
    }

    private static Map<String, String> environOf(int pid) throws IOException {
        Map<String, String> env = new HashMap<>();
        for (String kv : new String(Files.readAllBytes(Path.of("/proc/" + pid + "/environ")), StandardCharsets.UTF_8)
                .split("\0")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return env;
    }
}
