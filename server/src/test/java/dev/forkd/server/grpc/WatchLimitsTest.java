package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.server.testing.ErrorDetails;
import dev.forkd.server.watch.WatchAdmission;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SpawnRequest;
import dev.forkd.v1.WatchProcessRequest;
import dev.forkd.v1.WatchSharedRequest;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 10: process and shared-object watches are bounded per session and on the whole server, and
 * hold their transport buffer from the memory budget. A session once opened 20,000 follow-watches and
 * all were accepted; now the one past a cap is refused with RESOURCE_EXHAUSTED naming the cap, and a
 * watch that ends, however it ends, gives its place and its bytes back.
 */
@Timeout(30)
class WatchLimitsTest {

    private SessionRegistry sessions;
    private MemoryBudget budget;
    private WatchAdmission watches;
    private InProcessServer server;
    private ManagedChannel channel;
    private final List<Context.CancellableContext> open = new ArrayList<>();

    private void start(WatchAdmission.Limits limits, long budgetBytes) throws Exception {
        server = InProcessServer.start(limits, budgetBytes);
        channel = server.channel();
        sessions = server.sessions();
        budget = server.memory();
        watches = server.watches();
    }

    @AfterEach
    void stop() throws Exception {
        open.forEach(c -> c.cancel(null));
        server.close();
    }

    private static <S extends AbstractStub<S>> S as(S stub, String credential) {
        if (credential.isEmpty()) {
            return stub;
        }
        Metadata h = new Metadata();
        h.put(Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER), credential);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
    }

    private String spawn() {
        return ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .spawn(SpawnRequest.newBuilder().addArgv("sleep").addArgv("1000").build()).getProcess().getId();
    }

    /**
     * Opens a follow-watch of {@code processId} and waits for its first message (accepted) or its
     * error (refused, rethrown). It stays open until the test cancels it or ends.
     */
    private Context.CancellableContext watch(String credential, String processId) throws Exception {
        return await(credential, (stub, first) -> as(ProcessServiceGrpc.newStub(channel), credential)
                .watch(WatchProcessRequest.newBuilder().setName(processId).setFollow(true).build(), first.observer()));
    }

    private Context.CancellableContext watchShared(String credential, String name) throws Exception {
        return await(credential, (stub, first) -> as(SharedServiceGrpc.newStub(channel), credential)
                .watch(WatchSharedRequest.newBuilder().setName(name).build(), first.observer()));
    }

    /** The first event of a stream: a message (accepted) or its error. */
    private record First(CompletableFuture<Void> event) {
        <T> StreamObserver<T> observer() {
            return new StreamObserver<>() {
                @Override
                public void onNext(T value) {
                    event.complete(null);
                }

                @Override
                public void onError(Throwable t) {
                    event.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                    event.complete(null);
                }
            };
        }
    }

    private interface Opener {
        void open(Void unused, First first);
    }

    private Context.CancellableContext await(String credential, Opener opener) throws Exception {
        Context.CancellableContext ctx = Context.current().withCancellation();
        open.add(ctx);
        First first = new First(new CompletableFuture<>());
        ctx.run(() -> opener.open(null, first));
        try {
            first.event().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof StatusRuntimeException s ? s : e;
        }
        return ctx;
    }

    private static void refused(String reason, ThrowingRunnable call) {
        var e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals(reason, ErrorDetails.reason(e), e.getStatus().toString());
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Waits for a change another thread makes when a cancelled stream ends (no event to wait on here). */
    private static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void aSessionPastItsCapIsRefusedAndTheServerCapBoundsEveryone() throws Exception {
        start(new WatchAdmission.Limits(3, 5), 256L << 20);
        String a = sessions.open("a", Duration.ofMinutes(1)).credential();
        String b = sessions.open("b", Duration.ofMinutes(1)).credential();
        String p = spawn();
        List<Context.CancellableContext> mine = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            mine.add(watch(a, p));
        }
        refused(WatchAdmission.REASON_SESSION, () -> watch(a, p));
        // Another session still gets its watches, up to the server's cap.
        watch(b, p);
        watch("", p);
        refused(WatchAdmission.REASON_SERVER, () -> watch(b, p));
        refused(WatchAdmission.REASON_SERVER, () -> watchShared(b, "nothing-yet"));
        assertEquals(5, watches.open());
        assertEquals(5 * OutputWatcher.BUFFER_BYTES, budget.used());

        // A watch that ends gives its place back: the next one is accepted.
        mine.getFirst().cancel(null);
        awaitTrue(() -> watches.open() == 4, "the cancelled watch was never released: " + watches.open() + " open");
        watch(a, p);
        open.forEach(c -> c.cancel(null));
        awaitTrue(() -> watches.open() == 0 && budget.used() == 0,
                "watches left counted after all ended: " + watches.open() + " open, " + budget.used() + " bytes");
    }

    @Test
    void watchesHoldTheirBufferFromTheMemoryBudget() throws Exception {
        // Room for three process watches' buffers, not a fourth, nor a shared watch's.
        start(WatchAdmission.Limits.DEFAULT, 3 * OutputWatcher.BUFFER_BYTES + SharedWatcher.BUFFER_BYTES - 1);
        String p = spawn();
        for (int i = 0; i < 3; i++) {
            watch("", p);
        }
        refused(MemoryBudget.REASON, () -> watch("", p));
        SharedServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).setValue(SetValueRequest
                .newBuilder().setName("v").setValue(dev.forkd.v1.Scalar.newBuilder().setInt64Value(1)).build());
        refused(MemoryBudget.REASON, () -> watchShared("", "v"));
        assertEquals(3, watches.open());
    }

    @Test
    void aWatchThatCannotStartLeavesNothingCounted() throws Exception {
        start(new WatchAdmission.Limits(1, 1), 64L << 20);
        var notFound = assertThrows(StatusRuntimeException.class, () -> watch("", "p-nonexistent"));
        assertEquals(Status.Code.NOT_FOUND, notFound.getStatus().getCode());
        var noObject = assertThrows(StatusRuntimeException.class, () -> watchShared("", "nonexistent"));
        assertEquals(Status.Code.NOT_FOUND, noObject.getStatus().getCode());
        assertEquals(0, watches.open());
        assertEquals(0, budget.used());
        // The one place the cap allows is still free.
        watch("", spawn());
    }

    @Test
    void aWatchOfAProcessThatEndsIsReleased() throws Exception {
        start(new WatchAdmission.Limits(1, 1), 64L << 20);
        String p = spawn();
        watch("", p);
        ProcessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .signal(dev.forkd.v1.SignalRequest.newBuilder().setName(p)
                        .setKind(dev.forkd.v1.SignalKind.SIGNAL_KIND_KILL).build());
        awaitTrue(() -> watches.open() == 0, "the watch of an ended process was never released");
        watch("", spawn());
    }
}
