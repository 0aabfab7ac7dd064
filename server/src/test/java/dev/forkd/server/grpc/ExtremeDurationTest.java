package dev.forkd.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.CreatePipeRequest;
import dev.forkd.v1.CreateQueueRequest;
import dev.forkd.v1.GetQueueRequest;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.JoinQueueRequest;
import dev.forkd.v1.JoinQueueResponse;
import dev.forkd.v1.NotifyConditionRequest;
import dev.forkd.v1.PipeServiceGrpc;
import dev.forkd.v1.PollRequest;
import dev.forkd.v1.PollResponse;
import dev.forkd.v1.PutRequest;
import dev.forkd.v1.PutResponse;
import dev.forkd.v1.QueueItem;
import dev.forkd.v1.QueueServiceGrpc;
import dev.forkd.v1.RecvRequest;
import dev.forkd.v1.RecvResponse;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.SendRequest;
import dev.forkd.v1.SetEventRequest;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.TakeRequest;
import dev.forkd.v1.TakeResponse;
import dev.forkd.v1.TaskDoneRequest;
import dev.forkd.v1.WaitBarrierRequest;
import dev.forkd.v1.WaitBarrierResponse;
import dev.forkd.v1.WaitConditionRequest;
import dev.forkd.v1.WaitConditionResponse;
import dev.forkd.v1.WaitEventRequest;
import dev.forkd.v1.WaitEventResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 10, item 1: every timeout a queue, pipe or sync call may carry, at the extremes (the largest
 * valid proto Duration, and 2^63 ns, the first that overflows nanoseconds), means "no limit". Each
 * blocking call waits as if it had no timeout (it is ended by a concurrent event or by its caller
 * going away), never answers INTERNAL, and leaves no ghost waiter: the next caller gets the item,
 * the message, the lock or the barrier party count that a ghost used to take. Processes and pools:
 * {@link ExtremeDurationProcessTest}.
 */
@Timeout(30)
class ExtremeDurationTest {

    /** The largest Duration protobuf allows: 10,000 years. */
    static final Duration MAX = Duration.newBuilder().setSeconds(315_576_000_000L).setNanos(999_999_999).build();
    /** 2^63 ns: one nanosecond past what a long holds. */
    static final Duration TWO_TO_63_NANOS = Duration.newBuilder().setSeconds(9_223_372_036L).setNanos(854_775_808).build();

    static Stream<Duration> extremes() {
        return Stream.of(MAX, TWO_TO_63_NANOS);
    }

    private SessionRegistry sessions;
    private InProcessServer server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        server = InProcessServer.start();
        channel = server.channel();
        sessions = server.sessions();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    // ---- stubs -------------------------------------------------------------------------------

    private QueueServiceGrpc.QueueServiceBlockingStub queues() {
        return QueueServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private PipeServiceGrpc.PipeServiceBlockingStub pipes() {
        return PipeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private SyncServiceGrpc.SyncServiceBlockingStub sync(String session) {
        return SyncServiceGrpc.newBlockingStub(channel).withInterceptors(header(session))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private SyncServiceGrpc.SyncServiceStub syncAsync(String session) {
        return SyncServiceGrpc.newStub(channel).withInterceptors(header(session));
    }

    private static io.grpc.ClientInterceptor header(String session) {
        Metadata h = new Metadata();
        h.put(Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER), session);
        return MetadataUtils.newAttachHeadersInterceptor(h);
    }

    private String session() {
        return sessions.open("test", SessionRegistry.DEFAULT_TTL).credential();
    }

    private static QueueItem item(String s) {
        return QueueItem.newBuilder().setData(ByteString.copyFromUtf8(s)).build();
    }

    private static StatusRuntimeException fails(Status.Code code, Runnable call) {
        var e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        return e;
    }

    // ---- queues ------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("extremes")
    void takeWithAHugeTimeoutWaitsAndLeavesNoGhostToSwallowTheNextItem(Duration huge) throws Exception {
        queues().create(CreateQueueRequest.newBuilder().setName("q").build());
        var take = BlockingCall.<TakeResponse>start(o -> QueueServiceGrpc.newStub(channel)
                .take(TakeRequest.newBuilder().setName("q").setTimeout(huge).build(), o)).assertWaiting();
        take.cancel();
        queues().put(PutRequest.newBuilder().setName("q").addItems(item("a")).build());
        var next = queues().take(TakeRequest.newBuilder().setName("q").setTimeout(Duration.getDefaultInstance()).build());
        assertEquals("a", next.getItems(0).getData().toStringUtf8(), "a ghost taker swallowed the item: " + next);

        // And a waiting one is answered by the next put, like a take without a timeout.
        var waiting = BlockingCall.<TakeResponse>start(o -> QueueServiceGrpc.newStub(channel)
                .take(TakeRequest.newBuilder().setName("q").setTimeout(huge).build(), o)).assertWaiting();
        queues().put(PutRequest.newBuilder().setName("q").addItems(item("b")).build());
        assertEquals("b", waiting.answer().getItems(0).getData().toStringUtf8());
    }

    @ParameterizedTest
    @MethodSource("extremes")
    void putWithAHugeTimeoutWaitsAndLeavesNoGhostToPutLater(Duration huge) throws Exception {
        queues().create(CreateQueueRequest.newBuilder().setName("q").setMaxsize(1).build());
        queues().put(PutRequest.newBuilder().setName("q").addItems(item("a")).build());
        var put = BlockingCall.<PutResponse>start(o -> QueueServiceGrpc.newStub(channel)
                .put(PutRequest.newBuilder().setName("q").addItems(item("ghost")).setTimeout(huge).build(), o))
                .assertWaiting();
        put.cancel();
        assertEquals("a", queues().take(TakeRequest.newBuilder().setName("q").build()).getItems(0).getData().toStringUtf8());
        assertEquals(0, queues().get(GetQueueRequest.newBuilder().setName("q").build()).getQueue().getSize(),
                "a ghost putter put its item after its caller was gone");

        queues().put(PutRequest.newBuilder().setName("q").addItems(item("b")).build());
        var waiting = BlockingCall.<PutResponse>start(o -> QueueServiceGrpc.newStub(channel)
                .put(PutRequest.newBuilder().setName("q").addItems(item("c")).setTimeout(huge).build(), o))
                .assertWaiting();
        queues().take(TakeRequest.newBuilder().setName("q").build());
        assertEquals(1, waiting.answer().getPut());
    }

    @ParameterizedTest
    @MethodSource("extremes")
    void queueJoinWithAHugeTimeoutWaitsForTaskDone(Duration huge) throws Exception {
        queues().create(CreateQueueRequest.newBuilder().setName("q").build());
        queues().put(PutRequest.newBuilder().setName("q").addItems(item("a")).build());
        queues().take(TakeRequest.newBuilder().setName("q").build());
        var join = BlockingCall.<JoinQueueResponse>start(o -> QueueServiceGrpc.newStub(channel)
                .join(JoinQueueRequest.newBuilder().setName("q").setTimeout(huge).build(), o)).assertWaiting();
        queues().taskDone(TaskDoneRequest.newBuilder().setName("q").build());
        JoinQueueResponse r = join.answer();
        assertFalse(r.getTimedOut());
        assertEquals(0, r.getUnfinished());
    }

    // ---- pipes -------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("extremes")
    void recvWithAHugeTimeoutWaitsAndLeavesNoGhostToSwallowTheNextMessage(Duration huge) throws Exception {
        pipes().create(CreatePipeRequest.newBuilder().setName("x").setDuplex(true).build());
        var recv = BlockingCall.<RecvResponse>start(o -> PipeServiceGrpc.newStub(channel)
                .recv(RecvRequest.newBuilder().setName("x.0").setTimeout(huge).build(), o)).assertWaiting();
        recv.cancel();
        pipes().send(SendRequest.newBuilder().setName("x.1").addMessages(ByteString.copyFromUtf8("m")).build());
        var next = pipes().recv(RecvRequest.newBuilder().setName("x.0").setTimeout(Duration.getDefaultInstance()).build());
        assertEquals("m", next.getMessages(0).toStringUtf8(), "a ghost receiver swallowed the message: " + next);

        var waiting = BlockingCall.<RecvResponse>start(o -> PipeServiceGrpc.newStub(channel)
                .recv(RecvRequest.newBuilder().setName("x.0").setTimeout(huge).build(), o)).assertWaiting();
        pipes().send(SendRequest.newBuilder().setName("x.1").addMessages(ByteString.copyFromUtf8("n")).build());
        assertEquals("n", waiting.answer().getMessages(0).toStringUtf8());
    }

    @ParameterizedTest
    @MethodSource("extremes")
    void pollAndSendWithAHugeTimeoutWait(Duration huge) throws Exception {
        pipes().create(CreatePipeRequest.newBuilder().setName("x").setDuplex(true).build());
        var poll = BlockingCall.<PollResponse>start(o -> PipeServiceGrpc.newStub(channel)
                .poll(PollRequest.newBuilder().setName("x.0").setTimeout(huge).build(), o)).assertWaiting();
        var send = pipes().send(SendRequest.newBuilder().setName("x.1").addMessages(ByteString.copyFromUtf8("m"))
                .setTimeout(huge).build());
        assertFalse(send.getTimedOut());
        assertTrue(poll.answer().getReady());
    }

    // ---- sync --------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("extremes")
    void acquireWithAHugeTimeoutWaitsAndLeavesNoGhostHoldingTheLock(Duration huge) throws Exception {
        String holder = session();
        String gone = session();
        var nextSession = sessions.open("test", SessionRegistry.DEFAULT_TTL);
        String next = nextSession.credential();
        assertTrue(sync(holder).acquire(AcquireRequest.newBuilder().setName("l").setTimeout(huge).build()).getAcquired(),
                "a free lock is granted at once, whatever the timeout");
        var ghost = BlockingCall.<AcquireResponse>start(o -> syncAsync(gone)
                .acquire(AcquireRequest.newBuilder().setName("l").setTimeout(huge).build(), o)).assertWaiting();
        ghost.cancel();
        sync(holder).release(ReleaseRequest.newBuilder().setName("l").build());
        AcquireResponse r = sync(next).acquire(AcquireRequest.newBuilder().setName("l")
                .setTimeout(Duration.getDefaultInstance()).build());
        assertTrue(r.getAcquired(), "a ghost waiter took the lock: " + r);
        assertEquals(nextSession.id(), sync(next).get(GetSyncRequest.newBuilder().setName("l").build()).getInfo().getHolderSession());

        var waiting = BlockingCall.<AcquireResponse>start(o -> syncAsync(holder)
                .acquire(AcquireRequest.newBuilder().setName("l").setTimeout(huge).build(), o)).assertWaiting();
        sync(next).release(ReleaseRequest.newBuilder().setName("l").build());
        assertTrue(waiting.answer().getAcquired());
    }

    @ParameterizedTest
    @MethodSource("extremes")
    void waitEventWithAHugeTimeoutWaitsForTheSet(Duration huge) throws Exception {
        var wait = BlockingCall.<WaitEventResponse>start(o -> syncAsync(session())
                .waitEvent(WaitEventRequest.newBuilder().setName("e").setTimeout(huge).build(), o)).assertWaiting();
        sync(session()).setEvent(SetEventRequest.newBuilder().setName("e").build());
        assertTrue(wait.answer().getIsSet());
    }

    @ParameterizedTest
    @MethodSource("extremes")
    void waitConditionWithAHugeTimeoutWaitsForTheNotify(Duration huge) throws Exception {
        var waiterSession = sessions.open("test", SessionRegistry.DEFAULT_TTL);
        String waiter = waiterSession.credential();
        String notifier = session();
        sync(waiter).acquire(AcquireRequest.newBuilder().setName("cl").build());
        var wait = BlockingCall.<WaitConditionResponse>start(o -> syncAsync(waiter).waitCondition(
                WaitConditionRequest.newBuilder().setName("c").setLock("cl").setTimeout(huge).build(), o)).assertWaiting();
        assertTrue(sync(notifier).acquire(AcquireRequest.newBuilder().setName("cl")
                .setTimeout(Duration.getDefaultInstance()).build()).getAcquired(), "the waiter gave up its lock");
        sync(notifier).notifyCondition(NotifyConditionRequest.newBuilder().setName("c").setLock("cl").setN(1).build());
        sync(notifier).release(ReleaseRequest.newBuilder().setName("cl").build());
        assertTrue(wait.answer().getNotified());
        assertEquals(waiterSession.id(), sync(waiter).get(GetSyncRequest.newBuilder().setName("cl").build()).getInfo().getHolderSession());
    }

    @ParameterizedTest
    @MethodSource("extremes")
    void waitBarrierWithAHugeTimeoutCountsOnlyRealParties(Duration huge) throws Exception {
        var first = BlockingCall.<WaitBarrierResponse>start(o -> syncAsync(session()).waitBarrier(
                WaitBarrierRequest.newBuilder().setName("b").setParties(3).setTimeout(huge).build(), o)).assertWaiting();
        var second = BlockingCall.<WaitBarrierResponse>start(o -> syncAsync(session()).waitBarrier(
                WaitBarrierRequest.newBuilder().setName("b").setParties(3).setTimeout(huge).build(), o)).assertWaiting();
        assertEquals(2, sync(session()).get(GetSyncRequest.newBuilder().setName("b").build()).getInfo().getWaiters());
        var third = sync(session()).waitBarrier(WaitBarrierRequest.newBuilder().setName("b").setParties(3)
                .setTimeout(huge).build());
        assertFalse(third.getBroken());
        assertEquals(Set.of(0, 1, 2), Set.of(first.answer().getIndex(), second.answer().getIndex(), third.getIndex()));
    }
}
