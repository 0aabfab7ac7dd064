package dev.forkd.server.grpc;

import static dev.forkd.server.testing.Observers.observer;
import static dev.forkd.server.testing.ErrorDetails.reason;
import static dev.forkd.server.testing.ErrorDetails.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.v1.AbortBarrierRequest;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.AddArrayItemRequest;
import dev.forkd.v1.AddValueRequest;
import dev.forkd.v1.CreateSyncRequest;
import dev.forkd.v1.AppendListRequest;
import dev.forkd.v1.CloseSessionRequest;
import dev.forkd.v1.CreateArrayRequest;
import dev.forkd.v1.DeleteSharedRequest;
import dev.forkd.v1.DictItem;
import dev.forkd.v1.GetArrayRequest;
import dev.forkd.v1.GetArrayResponse;
import dev.forkd.v1.GetDictItemRequest;
import dev.forkd.v1.GetListItemRequest;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.ListSharedRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.ScalarType;
import dev.forkd.v1.SessionServiceGrpc;
import dev.forkd.v1.SetArrayRequest;
import dev.forkd.v1.SetDictItemsRequest;
import dev.forkd.v1.SetEventRequest;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SharedInfo;
import dev.forkd.v1.SharedKind;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.WaitBarrierRequest;
import dev.forkd.v1.WaitEventRequest;
import dev.forkd.v1.WatchSharedRequest;
import dev.forkd.v1.WatchSharedResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SyncService and SharedService over in-process gRPC: bad input gets the right code, a message
 * naming the problem, and changes nothing; results that are not errors (timeouts) are results.
 */
@Timeout(30)
class SyncAndSharedServiceTest {

    private SessionRegistry sessions;
    private InProcessServer server;
    private ManagedChannel channel;
    private SyncServiceGrpc.SyncServiceBlockingStub anon;
    private SharedServiceGrpc.SharedServiceBlockingStub shared;

    @BeforeEach
    void start() throws Exception {
        server = InProcessServer.start();
        channel = server.channel();
        sessions = server.sessions();
        anon = SyncServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
        shared = SharedServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private SyncServiceGrpc.SyncServiceBlockingStub as(String session) {
        Metadata h = new Metadata();
        h.put(Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER), session);
        return anon.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
    }

    private SyncServiceGrpc.SyncServiceStub asyncAs(String session) {
        Metadata h = new Metadata();
        h.put(Metadata.Key.of("forkd-session", Metadata.ASCII_STRING_MARSHALLER), session);
        return SyncServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
    }

    private String session() {
        return sessions.open("test", SessionRegistry.DEFAULT_TTL).credential();
    }

    private static AcquireRequest lock(String name) {
        return AcquireRequest.newBuilder().setName(name).build();
    }

    private static StatusRuntimeException fails(Status.Code code, Runnable call) {
        var e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        return e;
    }



    private static Scalar int64(long v) {
        return Scalar.newBuilder().setInt64Value(v).build();
    }

    @Test
    void lockUsedAsAnEventIsFailedPreconditionNamingBothKinds() throws Exception {
        var opened = sessions.open("test", SessionRegistry.DEFAULT_TTL);
        String s = opened.credential();
        as(s).acquire(lock("l"));
        var e = fails(Status.Code.FAILED_PRECONDITION, () -> anon.setEvent(SetEventRequest.newBuilder().setName("l").build()));
        assertEquals("WRONG_KIND", reason(e));
        assertTrue(e.getStatus().getDescription().contains("a lock") && e.getStatus().getDescription().contains("an event"));
        fails(Status.Code.FAILED_PRECONDITION, () -> anon.waitBarrier(WaitBarrierRequest.newBuilder().setName("l").setParties(2).build()));
        var info = anon.get(GetSyncRequest.newBuilder().setName("l").build()).getInfo();
        assertEquals(SyncKind.SYNC_KIND_LOCK, info.getKind());
        assertEquals(opened.id(), info.getHolderSession());
    }

    @Test
    void releaseOfAnUnheldOrForeignLockIsFailedPrecondition() throws Exception {
        var opened = sessions.open("test", SessionRegistry.DEFAULT_TTL);
        String a = opened.credential();
        String b = session();
        as(a).acquire(lock("l"));
        var e = fails(Status.Code.FAILED_PRECONDITION, () -> as(b).release(ReleaseRequest.newBuilder().setName("l").build()));
        assertEquals("LOCK_NOT_HELD", reason(e));
        assertTrue(e.getStatus().getDescription().contains("\"l\""));
        assertEquals(opened.id(), anon.get(GetSyncRequest.newBuilder().setName("l").build()).getInfo().getHolderSession());
        as(a).release(ReleaseRequest.newBuilder().setName("l").build());
        fails(Status.Code.FAILED_PRECONDITION, () -> as(a).release(ReleaseRequest.newBuilder().setName("l").build()));
    }

    @Test
    void semaphoreReleasedOverItsBoundIsFailedPrecondition() throws Exception {
        String a = session();
        as(a).acquire(AcquireRequest.newBuilder().setName("s").setKind(SyncKind.SYNC_KIND_BOUNDED_SEMAPHORE).setValue(2).build());
        as(a).release(ReleaseRequest.newBuilder().setName("s").build());
        var e = fails(Status.Code.FAILED_PRECONDITION, () -> as(a).release(ReleaseRequest.newBuilder().setName("s").build()));
        assertEquals("SEMAPHORE_OVER_BOUND", reason(e));
        assertEquals(2, anon.get(GetSyncRequest.newBuilder().setName("s").build()).getInfo().getValue());
    }

    @Test
    void aSemaphoreCreatedWithZeroPermitsHasNoneUntilReleasedAndAnUnsetValueMeansOne() throws Exception {
        anon.create(CreateSyncRequest.newBuilder().setName("zero").setKind(SyncKind.SYNC_KIND_SEMAPHORE).setValue(0).build());
        assertEquals(0, anon.get(GetSyncRequest.newBuilder().setName("zero").build()).getInfo().getInitialValue());
        String a = session();
        Duration now = Duration.getDefaultInstance();
        assertFalse(as(a).acquire(AcquireRequest.newBuilder().setName("zero").setTimeout(now).build()).getAcquired(),
                "a semaphore created with 0 permits must not grant one");
        as(a).release(ReleaseRequest.newBuilder().setName("zero").build());
        assertTrue(as(a).acquire(AcquireRequest.newBuilder().setName("zero").setTimeout(now).build()).getAcquired());

        anon.create(CreateSyncRequest.newBuilder().setName("default").setKind(SyncKind.SYNC_KIND_SEMAPHORE).build());
        assertEquals(1, anon.get(GetSyncRequest.newBuilder().setName("default").build()).getInfo().getValue());
    }

    @Test
    void listingPagesWithTokensBoundToTheirFilter() throws Exception {
        for (String n : List.of("e1", "e2", "e3")) {
            anon.create(CreateSyncRequest.newBuilder().setName(n).setKind(SyncKind.SYNC_KIND_EVENT).build());
        }
        var events = dev.forkd.v1.ListSyncRequest.newBuilder().setKind(SyncKind.SYNC_KIND_EVENT).setPageSize(2);
        var first = anon.list(events.build());
        assertEquals(List.of("e1", "e2"), first.getPrimitivesList().stream().map(p -> p.getName()).toList());
        assertFalse(first.getNextPageToken().isEmpty());
        var rest = anon.list(events.setPageToken(first.getNextPageToken()).build());
        assertEquals(List.of("e3"), rest.getPrimitivesList().stream().map(p -> p.getName()).toList());
        assertEquals("", rest.getNextPageToken());
        var e = assertThrows(io.grpc.StatusRuntimeException.class, () -> anon.list(dev.forkd.v1.ListSyncRequest.newBuilder()
                .setKind(SyncKind.SYNC_KIND_LOCK).setPageToken(first.getNextPageToken()).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("page_token", field(e));

        for (String n : List.of("v1", "v2", "v3")) {
            shared.setValue(SetValueRequest.newBuilder().setName(n).setValue(int64(1)).build());
        }
        var values = ListSharedRequest.newBuilder().setKind(SharedKind.SHARED_KIND_VALUE).setPageSize(2);
        var page = shared.list(values.build());
        assertEquals(2, page.getObjectsCount());
        assertEquals(1, shared.list(values.setPageToken(page.getNextPageToken()).build()).getObjectsCount());
        var wrong = assertThrows(io.grpc.StatusRuntimeException.class, () -> shared.list(ListSharedRequest.newBuilder()
                .setPageToken(page.getNextPageToken()).build()));
        assertEquals("page_token", field(wrong));
    }

    @Test
    void unknownNamesAreNotFoundNamingTheName() {
        for (Runnable call : new Runnable[] {
                () -> anon.get(GetSyncRequest.newBuilder().setName("ghost").build()),
                () -> anon.abortBarrier(AbortBarrierRequest.newBuilder().setName("ghost").build()),
                () -> as(session()).release(ReleaseRequest.newBuilder().setName("ghost").build()),
                () -> shared.getValue(GetValueRequest.newBuilder().setName("ghost").build()),
                () -> shared.getDictItem(GetDictItemRequest.newBuilder().setName("ghost").setKey("k").build()),
                () -> shared.getListItem(GetListItemRequest.newBuilder().setName("ghost").build())}) {
            var e = fails(Status.Code.NOT_FOUND, call);
            assertTrue(e.getStatus().getDescription().contains("ghost"), e.getStatus().getDescription());
        }
    }

    @Test
    void valueTypeMismatchIsFailedPreconditionAndTheValueIsUnchanged() throws Exception {
        shared.setValue(SetValueRequest.newBuilder().setName("n").setValue(int64(7)).build());
        var e = fails(Status.Code.FAILED_PRECONDITION, () -> shared.setValue(SetValueRequest.newBuilder().setName("n")
                .setValue(Scalar.newBuilder().setStringValue("seven")).build()));
        assertEquals("TYPE_MISMATCH", reason(e));
        fails(Status.Code.FAILED_PRECONDITION, () -> shared.addValue(AddValueRequest.newBuilder().setName("n")
                .setDelta(Scalar.newBuilder().setDoubleValue(0.5)).build()));
        var bad = fails(Status.Code.INVALID_ARGUMENT, () -> shared.addValue(AddValueRequest.newBuilder().setName("n").build()));
        assertEquals("delta", field(bad));
        assertEquals(int64(7), shared.getValue(GetValueRequest.newBuilder().setName("n").build()).getValue());
        fails(Status.Code.FAILED_PRECONDITION, () -> shared.appendList(AppendListRequest.newBuilder().setName("n")
                .addItems(int64(1)).build()));
    }

    @Test
    void acquireWithoutASessionOrWithAnEndedOneIsRefused() throws Exception {
        var e = fails(Status.Code.FAILED_PRECONDITION, () -> anon.acquire(lock("l")));
        assertEquals("SESSION_REQUIRED", reason(e));
        assertTrue(e.getStatus().getDescription().contains("forkd-session"));
        var opened = sessions.open("test", SessionRegistry.DEFAULT_TTL);
        sessions.end(opened.id());
        var ended = fails(Status.Code.UNAUTHENTICATED, () -> as(opened.credential()).acquire(lock("l")));
        assertEquals("SESSION_CREDENTIAL_INVALID", reason(ended));
    }

    @Test
    void badArgumentsNameTheirField() throws Exception {
        String s = session();
        assertEquals("name", field(fails(Status.Code.INVALID_ARGUMENT, () -> as(s).acquire(lock("")))));
        assertEquals("timeout", field(fails(Status.Code.INVALID_ARGUMENT, () -> anon.waitEvent(
                WaitEventRequest.newBuilder().setName("e").setTimeout(Duration.newBuilder().setSeconds(-1)).build()))));
        assertEquals("parties", field(fails(Status.Code.INVALID_ARGUMENT, () -> anon.waitBarrier(
                WaitBarrierRequest.newBuilder().setName("b").build()))));
        assertEquals("value", field(fails(Status.Code.INVALID_ARGUMENT, () -> shared.setValue(
                SetValueRequest.newBuilder().setName("v").build()))));
        assertEquals("items", field(fails(Status.Code.INVALID_ARGUMENT, () -> shared.setDictItems(
                SetDictItemsRequest.newBuilder().setName("d").build()))));
        fails(Status.Code.NOT_FOUND, () -> shared.getValue(GetValueRequest.newBuilder().setName("v").build()));
    }

    @Test
    void acquireTimeoutIsAResultNotAnError() {
        as(session()).acquire(lock("l"));
        AcquireResponse r = as(session()).acquire(AcquireRequest.newBuilder().setName("l")
                .setTimeout(Duration.newBuilder().setNanos(50_000_000)).build());
        assertFalse(r.getAcquired());
    }

    @Test
    void closedSessionPassesItsLockToTheWaiterAsAbandoned() throws Exception {
        String dead = session();
        long token = as(dead).acquire(lock("l")).getFencingToken();
        CompletableFuture<AcquireResponse> next = new CompletableFuture<>();
        asyncAs(session()).acquire(lock("l"), observer(next));
        assertFalse(next.isDone());
        SessionServiceGrpc.newBlockingStub(channel).close(CloseSessionRequest.newBuilder().setCredential(dead).build());
        AcquireResponse r = next.get(5, TimeUnit.SECONDS);
        assertTrue(r.getAcquired() && r.getAbandoned());
        assertTrue(r.getFencingToken() > token);
    }

    @Test
    void watchSendsTheCurrentValueThenEachChange() throws Exception {
        shared.setDictItems(SetDictItemsRequest.newBuilder().setName("d")
                .addItems(DictItem.newBuilder().setKey("k").setValue(int64(1))).build());
        try (var ctx = io.grpc.Context.current().withCancellation()) {
            ctx.run(() -> {
                Iterator<WatchSharedResponse> it = shared.watch(WatchSharedRequest.newBuilder().setName("d").setKey("k").build());
                assertEquals(int64(1), it.next().getValue());
                shared.setDictItems(SetDictItemsRequest.newBuilder().setName("d")
                        .addItems(DictItem.newBuilder().setKey("other").setValue(int64(5)))
                        .addItems(DictItem.newBuilder().setKey("k").setValue(int64(2))).build());
                WatchSharedResponse w = it.next();
                assertEquals(int64(2), w.getValue());
                assertTrue(w.getPresent());
            });
        }
    }

    @Test
    void eventWaitWakesOnSet() throws Exception {
        CompletableFuture<Boolean> woke = new CompletableFuture<>();
        SyncServiceGrpc.newStub(channel).waitEvent(WaitEventRequest.newBuilder().setName("e").build(),
                observer(woke, r -> r.getIsSet()));
        assertFalse(woke.isDone());
        anon.setEvent(SetEventRequest.newBuilder().setName("e").build());
        assertTrue(woke.get(5, TimeUnit.SECONDS));
    }

    private GetArrayResponse array(String name, Long start, Long stop) {
        var b = GetArrayRequest.newBuilder().setName(name);
        if (start != null) {
            b.setStart(start);
        }
        if (stop != null) {
            b.setStop(stop);
        }
        return shared.getArray(b.build());
    }

    private static List<Scalar> ints(long... vs) {
        return java.util.Arrays.stream(vs).mapToObj(SyncAndSharedServiceTest::int64).toList();
    }

    @Test
    void arrayReadsAndWritesByIndexAndSliceWithNegativeIndices() {
        var c = shared.createArray(CreateArrayRequest.newBuilder().setName("a").setType(ScalarType.SCALAR_TYPE_INT64)
                .setLength(5).build());
        assertTrue(c.getCreated());
        assertEquals(ints(0, 0, 0, 0, 0), array("a", null, null).getItemsList());
        shared.setArray(SetArrayRequest.newBuilder().setName("a").setStart(1).addAllItems(ints(1, 2, 3)).build());
        shared.setArray(SetArrayRequest.newBuilder().setName("a").setStart(-1).addItems(int64(9)).build());
        assertEquals(ints(0, 1, 2, 3, 9), array("a", null, null).getItemsList());
        assertEquals(ints(2, 3), array("a", -3L, -1L).getItemsList());
        assertEquals(ints(3, 9), array("a", 3L, 99L).getItemsList());
        assertEquals(ints(), array("a", 4L, 2L).getItemsList());
        var one = shared.getArray(GetArrayRequest.newBuilder().setName("a").setIndex(-4).build());
        assertEquals(ints(1), one.getItemsList());
        assertEquals(5, one.getLength());
        assertEquals(ScalarType.SCALAR_TYPE_INT64, one.getType());
        assertEquals(int64(11), shared.addArrayItem(AddArrayItemRequest.newBuilder().setName("a").setIndex(-1)
                .setDelta(int64(2)).build()).getItem());
        assertFalse(shared.createArray(CreateArrayRequest.newBuilder().setName("a").setType(ScalarType.SCALAR_TYPE_INT64)
                .setLength(5).build()).getCreated());
        var strings = shared.createArray(CreateArrayRequest.newBuilder().setName("s").setType(ScalarType.SCALAR_TYPE_STRING)
                .addItems(Scalar.newBuilder().setStringValue("x")).addItems(Scalar.newBuilder().setStringValue("y")).build());
        assertEquals(2, strings.getLength());
        var listed = shared.list(ListSharedRequest.newBuilder().setKind(SharedKind.SHARED_KIND_ARRAY).build()).getObjectsList();
        assertEquals(List.of("a", "s"), listed.stream().map(SharedInfo::getName).toList());
        assertEquals(5, listed.getFirst().getSize());
        assertEquals(SharedKind.SHARED_KIND_ARRAY, shared.delete(DeleteSharedRequest.newBuilder().setName("s").build()).getKind());
    }

    @Test
    void arrayBadInputIsAClearStatusAndChangesNothing() throws Exception {
        shared.createArray(CreateArrayRequest.newBuilder().setName("a").setType(ScalarType.SCALAR_TYPE_INT64)
                .addAllItems(ints(1, 2, 3)).build());
        var range = fails(Status.Code.INVALID_ARGUMENT, () -> shared.getArray(GetArrayRequest.newBuilder().setName("a")
                .setIndex(3).build()));
        assertEquals("index", field(range));
        assertTrue(range.getStatus().getDescription().contains("out of range"), range.getStatus().getDescription());
        assertEquals("index", field(fails(Status.Code.INVALID_ARGUMENT, () -> shared.getArray(GetArrayRequest.newBuilder()
                .setName("a").setIndex(0).setStart(0).build()))));
        assertEquals("start", field(fails(Status.Code.INVALID_ARGUMENT, () -> shared.setArray(SetArrayRequest.newBuilder()
                .setName("a").setStart(-4).addItems(int64(0)).build()))));
        assertEquals("items", field(fails(Status.Code.INVALID_ARGUMENT, () -> shared.setArray(SetArrayRequest.newBuilder()
                .setName("a").setStart(2).addAllItems(ints(7, 8)).build()))));
        var type = fails(Status.Code.FAILED_PRECONDITION, () -> shared.setArray(SetArrayRequest.newBuilder().setName("a")
                .addItems(int64(7)).addItems(Scalar.newBuilder().setDoubleValue(0.5)).build()));
        assertEquals("TYPE_MISMATCH", reason(type));
        assertEquals("TYPE_MISMATCH", reason(fails(Status.Code.FAILED_PRECONDITION, () -> shared.addArrayItem(
                AddArrayItemRequest.newBuilder().setName("a").setDelta(Scalar.newBuilder().setDoubleValue(1)).build()))));
        assertEquals("ARRAY_MISMATCH", reason(fails(Status.Code.FAILED_PRECONDITION, () -> shared.createArray(
                CreateArrayRequest.newBuilder().setName("a").setType(ScalarType.SCALAR_TYPE_DOUBLE).setLength(3).build()))));
        assertEquals("type", field(fails(Status.Code.INVALID_ARGUMENT, () -> shared.createArray(
                CreateArrayRequest.newBuilder().setName("b").setLength(3).build()))));
        assertEquals("length", field(fails(Status.Code.INVALID_ARGUMENT, () -> shared.createArray(
                CreateArrayRequest.newBuilder().setName("b").setType(ScalarType.SCALAR_TYPE_BOOL).build()))));
        assertEquals("length", field(fails(Status.Code.INVALID_ARGUMENT, () -> shared.createArray(
                CreateArrayRequest.newBuilder().setName("b").setType(ScalarType.SCALAR_TYPE_BOOL).setLength(1_000_001).build()))));
        assertEquals("items", field(fails(Status.Code.INVALID_ARGUMENT, () -> shared.createArray(
                CreateArrayRequest.newBuilder().setName("b").setType(ScalarType.SCALAR_TYPE_BOOL).addItems(int64(1)).build()))));
        assertEquals("stop", field(fails(Status.Code.INVALID_ARGUMENT, () -> {
            shared.createArray(CreateArrayRequest.newBuilder().setName("big").setType(ScalarType.SCALAR_TYPE_BOOL)
                    .setLength(1_000_000).build());
            array("big", null, null);
        })));
        shared.setDictItems(SetDictItemsRequest.newBuilder().setName("d")
                .addItems(DictItem.newBuilder().setKey("k").setValue(int64(1))).build());
        var kind = fails(Status.Code.FAILED_PRECONDITION, () -> array("d", null, null));
        assertEquals("WRONG_KIND", reason(kind));
        assertTrue(kind.getStatus().getDescription().contains("dict") && kind.getStatus().getDescription().contains("array"));
        fails(Status.Code.FAILED_PRECONDITION, () -> shared.createArray(CreateArrayRequest.newBuilder().setName("d")
                .setType(ScalarType.SCALAR_TYPE_INT64).setLength(1).build()));
        assertTrue(fails(Status.Code.NOT_FOUND, () -> array("ghost", null, null)).getStatus().getDescription().contains("ghost"));
        var a = array("a", null, null);
        assertEquals(ints(1, 2, 3), a.getItemsList());
        assertEquals(0, a.getVersion());
        assertEquals(1, shared.getDictItem(GetDictItemRequest.newBuilder().setName("d").setKey("k").build()).getValue().getInt64Value());
    }

    @Test
    void watchOfAnArraySeesASet() throws Exception {
        shared.createArray(CreateArrayRequest.newBuilder().setName("a").setType(ScalarType.SCALAR_TYPE_DOUBLE).setLength(2).build());
        try (var ctx = io.grpc.Context.current().withCancellation()) {
            ctx.run(() -> {
                Iterator<WatchSharedResponse> it = shared.watch(WatchSharedRequest.newBuilder().setName("a").build());
                WatchSharedResponse first = it.next();
                assertEquals(2, first.getSize());
                long version = shared.setArray(SetArrayRequest.newBuilder().setName("a").setStart(1)
                        .addItems(Scalar.newBuilder().setDoubleValue(0.5)).build()).getVersion();
                WatchSharedResponse w = it.next();
                assertEquals(version, w.getVersion());
                assertTrue(w.getVersion() > first.getVersion());
                shared.delete(DeleteSharedRequest.newBuilder().setName("a").build());
                assertTrue(it.next().getDeleted());
            });
        }
    }
}
