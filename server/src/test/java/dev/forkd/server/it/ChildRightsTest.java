package dev.forkd.server.it;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.ApplyRequest;
import dev.forkd.v1.CloseSessionRequest;
import dev.forkd.v1.CreatePipeRequest;
import dev.forkd.v1.CreatePoolRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ListSyncRequest;
import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.PipeServiceGrpc;
import dev.forkd.v1.PoolServiceGrpc;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.SetEventRequest;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.StdinMode;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.TaskInput;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import dev.forkd.v1.WriteStdinRequest;
import dev.forkd.v1.WriteStdinResponse;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The rights table (README "What a child can and cannot do"), cell by cell, against a real server:
 * each child is a real process forkd spawned, and its calls carry the credential read from its own
 * environment (/proc/PID/environ), which is exactly what the child would send.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ChildRightsTest {

    private static final Metadata.Key<String> SESSION = Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final AtomicInteger NAMES = new AtomicInteger();

    private static RealServer forkd;
    /** Every credential a test saw, so a test can check none shows up where it must not. */
    private final List<String> credentials = new ArrayList<>();
    private final List<String> spawned = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    @AfterEach
    void killWhatWasSpawned() {
        for (String id : spawned) {
            try {
                forkd.processes().signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_KILL).build());
            } catch (StatusRuntimeException ignored) {
                // ended (or deleted) already
            }
        }
    }

    // ---- the cells -----------------------------------------------------------------------------

    @Test
    void aChildsEnvironmentHoldsItsOwnCredentialAndNoSessionIdOrAdminSecret() throws Exception {
        // Whatever the spawner puts there, a child's credential variables are its own.
        ProcessInfo child = spawnAsAdmin(sleeper().putEnv("FORKD_SESSION", "forged").putEnv("FORKD_TOKEN", "forged"));
        Map<String, String> env = environOf(child);
        String credential = env.get("FORKD_SESSION");
        assertTrue(credential != null && credential.startsWith("fksc_") && credential.length() >= 40, env::toString);
        assertEquals(credential, env.get("FORKD_TOKEN"), "FORKD_TOKEN carries the child's credential");
        // What anyone can read about the child does not contain what acts as it.
        assertNoCredentialIn(forkd.processes().get(GetProcessRequest.newBuilder().setName(child.getId()).build()).toString());
        assertNoCredentialIn(forkd.processes().list(ListProcessesRequest.getDefaultInstance()).toString());
    }

    @Test
    void theAdminAndAChildMayBothUseTheSharedDataPlane() throws Exception {
        String child = credentialOf(spawnAsAdmin());
        Metadata childHeaders = new Metadata();
        childHeaders.put(SESSION, child);
        for (Metadata caller : List.of(new Metadata(), childHeaders)) {
            String n = "plane-" + NAMES.incrementAndGet();
            var queues = with(QueueServiceGrpc.newBlockingStub(forkd.channel), caller);
            queues.create(CreateQueueRequest.newBuilder().setName(n).build());
            queues.put(PutRequest.newBuilder().setName(n).addItems(QueueItem.newBuilder()
                    .setData(ByteString.copyFromUtf8("x"))).build());
            assertEquals(1, queues.take(TakeRequest.newBuilder().setName(n).build()).getItemsCount());
            var pipes = with(PipeServiceGrpc.newBlockingStub(forkd.channel), caller);
            pipes.create(CreatePipeRequest.newBuilder().setName(n).build());
            var shared = with(SharedServiceGrpc.newBlockingStub(forkd.channel), caller);
            shared.setValue(SetValueRequest.newBuilder().setName(n).setValue(Scalar.newBuilder().setInt64Value(7)).build());
            assertEquals(7, shared.getValue(GetValueRequest.newBuilder().setName(n).build()).getValue().getInt64Value());
            var sync = with(SyncServiceGrpc.newBlockingStub(forkd.channel), caller);
            sync.setEvent(SetEventRequest.newBuilder().setName(n + "-event").build());
            var pools = with(PoolServiceGrpc.newBlockingStub(forkd.channel)
                    .withDeadlineAfter(60, TimeUnit.SECONDS), caller);
            String pool = pools.create(CreatePoolRequest.newBuilder().setName(n).setProcesses(1).setWorker(WorkerSpec
                    .newBuilder().setKind(WorkerKind.WORKER_KIND_PER_TASK).addArgv("echo").addArgv("{}")).build())
                    .getPool().getId();
            assertEquals("hi\n", pools.apply(ApplyRequest.newBuilder().setName(pool)
                    .setInput(TaskInput.newBuilder().setItem(ByteString.copyFromUtf8("hi"))).build())
                    .getResult().getOutput().toStringUtf8());
        }
        // Locks need a session: the child's own, from its credential.
        var sync = as(SyncServiceGrpc.newBlockingStub(forkd.channel), child);
        assertTrue(sync.acquire(AcquireRequest.newBuilder().setName("plane-lock").build()).getAcquired());
        sync.release(ReleaseRequest.newBuilder().setName("plane-lock").build());
    }

    @Test
    void aChildSpawnsAndControlsItsDescendantsRecursively() throws Exception {
        ProcessInfo a = spawnAsAdmin();
        String credA = credentialOf(a);
        var asA = as(forkd.processes(), credA);
        ProcessInfo b = track(asA.spawn(sleeper().setStdinMode(StdinMode.STDIN_MODE_PIPE).build()).getProcess());
        ProcessInfo d = track(as(forkd.processes(), credentialOf(b)).spawn(sleeper().build()).getProcess());
        // A watches and feeds its child, and signals its grandchild.
        assertTrue(asA.watch(WatchProcessRequest.newBuilder().setName(b.getId()).setNoOutput(true).build()).hasNext());
        assertEquals(2, writeStdin(as(forkd.processesAsync(), credA), b.getId(), "x\n").getBytesWritten());
        assertEquals(-9, signalAndJoin(asA, d.getId()).getExitCode());
        assertEquals(-9, signalAndJoin(asA, b.getId()).getExitCode());
        asA.delete(DeleteProcessRequest.newBuilder().setName(d.getId()).build());
        asA.delete(DeleteProcessRequest.newBuilder().setName(b.getId()).build());
        // and may signal itself (joined by the admin: A's credential ends with A)
        asA.signal(SignalRequest.newBuilder().setName(a.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        assertEquals(-9, forkd.processes().join(JoinProcessRequest.newBuilder().setName(a.getId()).build()).getProcess().getExitCode());
    }

    @Test
    void aChildMayNotSignalDeleteWatchOrFeedAnotherSessionsProcessesButMayReadThem() throws Exception {
        ProcessInfo a = spawnAsAdmin();
        var asA = as(forkd.processes(), credentialOf(a));
        ProcessInfo sibling = spawnAsAdmin(sleeper().setStdinMode(StdinMode.STDIN_MODE_PIPE));
        ProcessInfo ended = forkd.processes().spawn(SpawnRequest.newBuilder().addArgv("true").build()).getProcess();
        forkd.processes().join(JoinProcessRequest.newBuilder().setName(ended.getId()).build());
        ProcessInfo b = track(asA.spawn(sleeper().build()).getProcess());
        var asB = as(forkd.processes(), credentialOf(b));

        for (SignalKind kind : List.of(SignalKind.SIGNAL_KIND_KILL, SignalKind.SIGNAL_KIND_TERMINATE)) {
            denied(() -> asA.signal(SignalRequest.newBuilder().setName(sibling.getId()).setKind(kind).build()));
        }
        denied(() -> asA.signal(SignalRequest.newBuilder().setName(sibling.getId())
                .setKind(SignalKind.SIGNAL_KIND_NAMED).setSignal("HUP").build()));
        denied(() -> asB.signal(SignalRequest.newBuilder().setName(a.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build()));
        denied(() -> asA.delete(DeleteProcessRequest.newBuilder().setName(ended.getId()).build()));
        denied(() -> asA.watch(WatchProcessRequest.newBuilder().setName(sibling.getId()).build()).hasNext());
        var stdin = assertThrows(ExecutionException.class,
                () -> writeStdin(as(forkd.processesAsync(), credentialOf(a)), sibling.getId(), "rm -rf /\n"));
        assertEquals(Status.Code.PERMISSION_DENIED, Status.fromThrowable(stdin.getCause()).getCode());
        // By name too: a name is another way to say the id.
        ProcessInfo named = spawnAsAdmin(sleeper().setName("victim-" + NAMES.incrementAndGet()));
        denied(() -> asA.signal(SignalRequest.newBuilder().setName(named.getName()).setKind(SignalKind.SIGNAL_KIND_KILL).build()));

        // Nothing happened to them.
        assertTrue(forkd.processes().get(GetProcessRequest.newBuilder().setName(sibling.getId()).build()).getProcess().getIsAlive());
        assertTrue(forkd.processes().get(GetProcessRequest.newBuilder().setName(named.getId()).build()).getProcess().getIsAlive());
        assertTrue(forkd.processes().get(GetProcessRequest.newBuilder().setName(a.getId()).build()).getProcess().getIsAlive());
        assertEquals(ended.getId(), forkd.processes().get(GetProcessRequest.newBuilder().setName(ended.getId()).build())
                .getProcess().getId());
        // Reading is open to every caller.
        assertEquals(sibling.getId(), asA.get(GetProcessRequest.newBuilder().setName(sibling.getId()).build()).getProcess().getId());
        assertTrue(asA.list(ListProcessesRequest.getDefaultInstance()).getProcessesList().stream()
                .anyMatch(p -> p.getId().equals(sibling.getId())));
        assertTrue(asA.join(JoinProcessRequest.newBuilder().setName(sibling.getId()).setTimeout(Duration.getDefaultInstance()).build())
                .getTimedOut());
        // The admin may do all of it.
        assertEquals(-9, signalAndJoin(forkd.processes(), sibling.getId()).getExitCode());
        forkd.processes().delete(DeleteProcessRequest.newBuilder().setName(ended.getId()).build());
    }

    @Test
    void aChildMayNotShutTheServerDown() throws Exception {
        ProcessInfo child = spawnAsAdmin();
        var asChild = as(dev.forkd.v1.ServerServiceGrpc.newBlockingStub(forkd.channel), credentialOf(child))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
        for (boolean keep : List.of(false, true)) {
            denied(() -> asChild.shutdown(dev.forkd.v1.ShutdownRequest.newBuilder().setKeepChildren(keep).build()));
        }
        // Still serving, the child still running.
        assertTrue(forkd.processes().get(GetProcessRequest.newBuilder().setName(child.getId()).build()).getProcess().getIsAlive());
    }

    @Test
    void anotherClientCannotReleaseAVictimsLockOrCloseItsSessionWithWhatListingsShow() throws Exception {
        String lock = "victim-lock-" + NAMES.incrementAndGet();
        CompletableFuture<OpenSessionResponse> opened = new CompletableFuture<>();
        StreamObserver<OpenSessionRequest> victimStream = openSession(SessionServiceGrpc.newStub(forkd.channel), opened);
        OpenSessionResponse victim = opened.get(30, TimeUnit.SECONDS);
        credentials.add(victim.getCredential());
        assertNotEquals(victim.getSessionId(), victim.getCredential());
        var asVictim = as(SyncServiceGrpc.newBlockingStub(forkd.channel), victim.getCredential());
        asVictim.acquire(AcquireRequest.newBuilder().setName(lock).build());

        // What every client can see: the holder's public id, never the credential.
        var info = forkd.syncs().get(GetSyncRequest.newBuilder().setName(lock).build()).getInfo();
        assertEquals(victim.getSessionId(), info.getHolderSession());
        assertNoCredentialIn(info.toString());
        assertNoCredentialIn(forkd.syncs().list(ListSyncRequest.getDefaultInstance()).toString());

        // Another client (the admin on the socket) with the public id: it acts as nothing.
        String seen = info.getHolderSession();
        var stolen = assertThrows(StatusRuntimeException.class, () -> as(forkd.syncs(), seen)
                .release(ReleaseRequest.newBuilder().setName(lock).build()));
        assertEquals(Status.Code.UNAUTHENTICATED, stolen.getStatus().getCode());
        assertEquals("SESSION_CREDENTIAL_INVALID", reason(stolen));
        var closeById = assertThrows(StatusRuntimeException.class, () -> forkd.sessions()
                .close(CloseSessionRequest.newBuilder().setSessionId(seen).build()));
        assertEquals(Status.Code.UNAUTHENTICATED, closeById.getStatus().getCode());
        assertEquals("SESSION_CREDENTIAL_REQUIRED", reason(closeById));
        var closeByIdAsCredential = assertThrows(StatusRuntimeException.class, () -> forkd.sessions()
                .close(CloseSessionRequest.newBuilder().setCredential(seen).build()));
        assertEquals(Status.Code.UNAUTHENTICATED, closeByIdAsCredential.getStatus().getCode());

        // A child: its own session does not hold the lock, and it may not act as, or close, the victim's.
        String child = credentialOf(spawnAsAdmin());
        var notHeld = assertThrows(StatusRuntimeException.class, () -> as(forkd.syncs(), child)
                .release(ReleaseRequest.newBuilder().setName(lock).build()));
        assertEquals("LOCK_NOT_HELD", reason(notHeld));
        assertNoCredentialIn(notHeld.getStatus().getDescription());
        assertTrue(notHeld.getStatus().getDescription().contains(victim.getSessionId()), notHeld::toString);
        var closeOther = assertThrows(StatusRuntimeException.class, () -> as(forkd.sessions(), child)
                .close(CloseSessionRequest.newBuilder().setSessionId(seen).build()));
        assertEquals(Status.Code.PERMISSION_DENIED, closeOther.getStatus().getCode());
        assertEquals("NOT_YOUR_SESSION", reason(closeOther));
        // Even holding the victim's credential, a child call acts only as the child's own sessions.
        Metadata both = new Metadata();
        both.put(SESSION, victim.getCredential());
        both.put(AUTHORIZATION, "Bearer " + child);
        var asBoth = forkd.syncs().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(both));
        var mixed = assertThrows(StatusRuntimeException.class, () -> asBoth.release(ReleaseRequest.newBuilder().setName(lock).build()));
        assertEquals(Status.Code.PERMISSION_DENIED, mixed.getStatus().getCode());
        assertEquals("NOT_YOUR_SESSION", reason(mixed));
        var closeWithCredential = assertThrows(StatusRuntimeException.class, () -> as(forkd.sessions(), child)
                .close(CloseSessionRequest.newBuilder().setCredential(victim.getCredential()).build()));
        assertEquals(Status.Code.PERMISSION_DENIED, closeWithCredential.getStatus().getCode());
        for (StatusRuntimeException e : List.of(stolen, closeById, closeByIdAsCredential, notHeld, closeOther, mixed,
                closeWithCredential)) {
            assertNoCredentialIn(e.getStatus().toString());
        }

        // The victim still holds its lock, and its own credential still works.
        assertEquals(victim.getSessionId(), forkd.syncs().get(GetSyncRequest.newBuilder().setName(lock).build())
                .getInfo().getHolderSession());
        asVictim.release(ReleaseRequest.newBuilder().setName(lock).build());
        assertEquals(0, forkd.sessions().close(CloseSessionRequest.newBuilder().setSessionId(victim.getSessionId())
                .setCredential(victim.getCredential()).build()).getTerminatedProcesses());
        victimStream.onCompleted();
    }

    @Test
    void aSessionAChildOpensStaysTheChilds() throws Exception {
        String child = credentialOf(spawnAsAdmin());
        ProcessInfo sibling = spawnAsAdmin();
        CompletableFuture<OpenSessionResponse> opened = new CompletableFuture<>();
        StreamObserver<OpenSessionRequest> stream = openSession(as(SessionServiceGrpc.newStub(forkd.channel), child), opened);
        String own = opened.get(30, TimeUnit.SECONDS).getCredential();
        credentials.add(own);
        // The new credential alone, without the child's: still the child's call.
        denied(() -> as(forkd.processes(), own).signal(SignalRequest.newBuilder().setName(sibling.getId())
                .setKind(SignalKind.SIGNAL_KIND_KILL).build()));
        assertTrue(as(forkd.syncs(), own).acquire(AcquireRequest.newBuilder().setName("childs-own-" + NAMES.incrementAndGet())
                .build()).getAcquired());
        stream.onCompleted();
    }

    @Test
    void aChildsCredentialActsAsNothingOnceTheChildHasEnded() throws Exception {
        ProcessInfo a = spawnAsAdmin();
        String credential = credentialOf(a);
        signalAndJoin(forkd.processes(), a.getId());
        var e = assertThrows(StatusRuntimeException.class, () -> as(forkd.processes(), credential)
                .spawn(sleeper().build()));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertEquals("SESSION_CREDENTIAL_INVALID", reason(e));
    }

    @Test
    void overTcpAChildGetsItsOwnCredentialNotTheAdminTokenAndIsLimitedByIt() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "forkd-tcp-");
        Path tokenFile = dir.resolve("token");
        String adminToken = "admin-token-" + java.util.UUID.randomUUID();
        Files.writeString(tokenFile, adminToken);
        Files.setPosixFilePermissions(tokenFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        var config = dev.forkd.server.config.ServerConfig.defaults(new dev.forkd.address.ForkdPaths(dir))
                .withTokenFile(java.util.Optional.of(tokenFile))
                .withTransport(new dev.forkd.address.ListenAddress.Tcp("127.0.0.1", 0),
                        new dev.forkd.server.config.TcpSecurity.InsecurePlaintext()).withAgents(1);
        try (var server = dev.forkd.server.ForkdServer.start(config)) {
            var tcp = (dev.forkd.address.ListenAddress.Tcp) server.address();
            var channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", tcp.port())
                    .usePlaintext().build();
            try {
                var admin = bearer(ProcessServiceGrpc.newBlockingStub(channel), adminToken)
                        .withDeadlineAfter(60, TimeUnit.SECONDS);
                ProcessInfo child = admin.spawn(sleeper().build()).getProcess();
                ProcessInfo sibling = admin.spawn(sleeper().build()).getProcess();
                Map<String, String> env = environOf(child);
                String token = env.get("FORKD_TOKEN");
                assertNotEquals(adminToken, token, "a child must not get the admin token");
                assertFalse(env.containsValue(adminToken), "the admin token is nowhere in a child's environment");
                assertEquals(env.get("FORKD_SESSION"), token);
                // The child, as its client would call: bearer FORKD_TOKEN, nothing else.
                var asChild = bearer(ProcessServiceGrpc.newBlockingStub(channel), token).withDeadlineAfter(60, TimeUnit.SECONDS);
                assertEquals(sibling.getId(), asChild.get(GetProcessRequest.newBuilder().setName(sibling.getId()).build())
                        .getProcess().getId());
                bearer(QueueServiceGrpc.newBlockingStub(channel), token).create(CreateQueueRequest.newBuilder()
                        .setName("tcp-child").build());
                var e = assertThrows(StatusRuntimeException.class, () -> asChild.signal(SignalRequest.newBuilder()
                        .setName(sibling.getId()).setKind(SignalKind.SIGNAL_KIND_KILL).build()));
                assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
                assertEquals("NOT_YOUR_PROCESS", reason(e));
                ProcessInfo own = asChild.spawn(sleeper().build()).getProcess();
                assertEquals(-9, signalAndJoin(asChild, own.getId()).getExitCode());
                // Without a token, or with another session's public id as one, nothing is allowed.
                var none = assertThrows(StatusRuntimeException.class, () -> ProcessServiceGrpc.newBlockingStub(channel)
                        .list(ListProcessesRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
                for (String id : List.of(child.getId(), sibling.getId())) {
                    admin.signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_KILL).build());
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static SpawnRequest.Builder sleeper() {
        return SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000");
    }

    private ProcessInfo spawnAsAdmin() {
        return spawnAsAdmin(sleeper());
    }

    private ProcessInfo spawnAsAdmin(SpawnRequest.Builder r) {
        return track(forkd.processes().spawn(r.build()).getProcess());
    }

    private ProcessInfo track(ProcessInfo p) {
        spawned.add(p.getId());
        return p;
    }

    /** The credential a child would send: its own FORKD_SESSION. */
    private String credentialOf(ProcessInfo p) throws IOException {
        String c = environOf(p).get("FORKD_SESSION");
        credentials.add(c);
        return c;
    }

    /**
     * The environment of a started process, once exec has laid it out: the kernel lets the spawning
     * agent go on (vfork) before the new image's environment is set up, and /proc shows it empty
     * until then.
     */
    private static Map<String, String> environOf(ProcessInfo p) throws IOException {
        Eventually.await(java.time.Duration.ofSeconds(30), () -> {
            try {
                return p.getId().equals(environOf(p.getPid()).get("FORKD_PROCESS_ID"));
            } catch (IOException e) {
                return false;
            }
        }, () -> "process " + p.getId() + " (pid " + p.getPid() + ") never showed its own environment");
        return environOf(p.getPid());
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

    private void assertNoCredentialIn(String text) {
        for (String c : credentials) {
            assertFalse(text != null && text.contains(c), "a credential showed: " + text);
        }
    }

    private static <S extends AbstractStub<S>> S with(S stub, Metadata headers) {
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private static <S extends AbstractStub<S>> S as(S stub, String credential) {
        Metadata h = new Metadata();
        h.put(SESSION, credential);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
    }

    private static <S extends AbstractStub<S>> S bearer(S stub, String token) {
        Metadata h = new Metadata();
        h.put(AUTHORIZATION, "Bearer " + token);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
    }

    private static void denied(Runnable call) {
        var e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e::toString);
        assertEquals("NOT_YOUR_PROCESS", reason(e));
    }

    private static ProcessInfo signalAndJoin(ProcessServiceGrpc.ProcessServiceBlockingStub stub, String id) {
        stub.signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_KILL).build());
        return stub.join(JoinProcessRequest.newBuilder().setName(id).build()).getProcess();
    }

    private static WriteStdinResponse writeStdin(ProcessServiceGrpc.ProcessServiceStub stub, String id, String data)
            throws Exception {
        CompletableFuture<WriteStdinResponse> done = new CompletableFuture<>();
        StreamObserver<WriteStdinRequest> in = stub.writeStdin(new StreamObserver<>() {
            @Override
            public void onNext(WriteStdinResponse r) {
                done.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        in.onNext(WriteStdinRequest.newBuilder().setName(id).setData(ByteString.copyFromUtf8(data)).build());
        in.onCompleted();
        return done.get(30, TimeUnit.SECONDS);
    }

    private static StreamObserver<OpenSessionRequest> openSession(SessionServiceGrpc.SessionServiceStub stub,
            CompletableFuture<OpenSessionResponse> opened) {
        StreamObserver<OpenSessionRequest> s = stub.open(new StreamObserver<>() {
            @Override
            public void onNext(OpenSessionResponse r) {
                opened.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                opened.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        s.onNext(OpenSessionRequest.newBuilder().setName("test").build());
        return s;
    }
}
