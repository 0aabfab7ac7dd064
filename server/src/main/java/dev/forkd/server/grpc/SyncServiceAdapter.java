package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.sync.SyncResults;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.Pending;
import dev.forkd.server.sync.SyncTable;
import dev.forkd.v1.AbortBarrierRequest;
import dev.forkd.v1.AbortBarrierResponse;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.CancelAcquireRequest;
import dev.forkd.v1.CancelAcquireResponse;
import dev.forkd.v1.ClearEventRequest;
import dev.forkd.v1.ClearEventResponse;
import dev.forkd.v1.CreateSyncRequest;
import dev.forkd.v1.CreateSyncResponse;
import dev.forkd.v1.DeleteSyncRequest;
import dev.forkd.v1.DeleteSyncResponse;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.GetSyncResponse;
import dev.forkd.v1.ListSyncRequest;
import dev.forkd.v1.ListSyncResponse;
import dev.forkd.v1.NotifyConditionRequest;
import dev.forkd.v1.NotifyConditionResponse;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.ReleaseResponse;
import dev.forkd.v1.ResetBarrierRequest;
import dev.forkd.v1.ResetBarrierResponse;
import dev.forkd.v1.SetEventRequest;
import dev.forkd.v1.SetEventResponse;
import dev.forkd.v1.SyncInfo;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.SyncServiceGrpc;
import dev.forkd.v1.WaitBarrierRequest;
import dev.forkd.v1.WaitBarrierResponse;
import dev.forkd.v1.WaitConditionRequest;
import dev.forkd.v1.WaitConditionResponse;
import dev.forkd.v1.WaitEventRequest;
import dev.forkd.v1.WaitEventResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/** SyncService: decode, call the {@link SyncTable}, encode. The caller's session is the owner. */
public final class SyncServiceAdapter extends SyncServiceGrpc.SyncServiceImplBase {

    private final SyncTable table;

    public SyncServiceAdapter(SyncTable table) {
        this.table = table;
    }

    @Override
    public void create(CreateSyncRequest r, StreamObserver<CreateSyncResponse> out) {
        kept(out, () -> {
            var kind = kind(r.getKind()).orElseThrow(() -> new InvalidArgument("kind", "is required"));
            return CreateSyncResponse.newBuilder()
                    .setInfo(info(table.create(r.getName(), kind,
                            r.hasValue() ? r.getValue() : SyncTable.DEFAULT_SEMAPHORE_VALUE, r.getParties(), r.getLock()))).build();
        });
    }

    @Override
    public void get(GetSyncRequest r, StreamObserver<GetSyncResponse> out) {
        Calls.unary(out, () -> GetSyncResponse.newBuilder().setInfo(info(table.get(r.getName()))).build());
    }

    @Override
    public void list(ListSyncRequest r, StreamObserver<ListSyncResponse> out) {
        Calls.unary(out, () -> {
            var page = PageTokens.page(table.list(kind(r.getKind())), SyncResults.Info::name, r.getPageSize(), 1000,
                    r.getPageToken(), "sync|" + r.getKind());
            var b = ListSyncResponse.newBuilder();
            page.items().forEach(i -> b.addPrimitives(info(i)));
            page.nextPageToken().ifPresent(b::setNextPageToken);
            return b.build();
        });
    }

    @Override
    public void delete(DeleteSyncRequest r, StreamObserver<DeleteSyncResponse> out) {
        kept(out, () -> DeleteSyncResponse.newBuilder().setKind(proto(table.delete(r.getName()))).build());
    }

    @Override
    public void acquire(AcquireRequest r, StreamObserver<AcquireResponse> out) {
        String owner = session();
        SyncServiceAdapter.<SyncResults.Grant, AcquireResponse>blocking(out, cb -> table.acquire(r.getName(), kind(r.getKind()), r.getValue(), owner,
                timeout(r.hasTimeout(), r.getTimeout()), r.getWaitId(), cb),
                g -> AcquireResponse.newBuilder().setAcquired(g.acquired()).setFencingToken(g.fencingToken())
                        .setAbandoned(g.abandoned()).setDepth(g.depth()).build(),
                g -> {
                    if (g.acquired()) {
                        table.release(r.getName(), owner); // nobody will learn it holds the lock
                    }
                });
    }

    @Override
    public void cancelAcquire(CancelAcquireRequest r, StreamObserver<CancelAcquireResponse> out) {
        kept(out, () -> {
            var undone = table.cancelAcquire(r.getName(), session(), r.getWaitId());
            return CancelAcquireResponse.newBuilder().setWasWaiting(undone.wasWaiting())
                    .setReleased(undone.released()).build();
        });
    }

    @Override
    public void release(ReleaseRequest r, StreamObserver<ReleaseResponse> out) {
        kept(out, () -> {
            var rel = table.release(r.getName(), session());
            return ReleaseResponse.newBuilder().setDepth(rel.depth()).setValue(rel.value()).build();
        });
    }

    @Override
    public void setEvent(SetEventRequest r, StreamObserver<SetEventResponse> out) {
        kept(out, () -> SetEventResponse.newBuilder().setWoken(table.setEvent(r.getName())).build());
    }

    @Override
    public void clearEvent(ClearEventRequest r, StreamObserver<ClearEventResponse> out) {
        kept(out, () -> {
            table.clearEvent(r.getName());
            return ClearEventResponse.getDefaultInstance();
        });
    }

    @Override
    public void waitEvent(WaitEventRequest r, StreamObserver<WaitEventResponse> out) {
        SyncServiceAdapter.<Boolean, WaitEventResponse>blocking(out, cb -> table.waitEvent(r.getName(), timeout(r.hasTimeout(), r.getTimeout()), cb),
                set -> WaitEventResponse.newBuilder().setIsSet(set).build(), set -> {});
    }

    @Override
    public void waitCondition(WaitConditionRequest r, StreamObserver<WaitConditionResponse> out) {
        String owner = session();
        SyncServiceAdapter.<SyncResults.ConditionWoken, WaitConditionResponse>blocking(out, cb -> table.waitCondition(r.getName(), r.getLock(), owner,
                timeout(r.hasTimeout(), r.getTimeout()), cb),
                w -> WaitConditionResponse.newBuilder().setNotified(w.notified()).setFencingToken(w.fencingToken())
                        .setAbandoned(w.abandoned()).build(),
                w -> {});
    }

    @Override
    public void notifyCondition(NotifyConditionRequest r, StreamObserver<NotifyConditionResponse> out) {
        kept(out, () -> {
            if (r.getN() < 0) {
                throw new InvalidArgument("n", "must not be negative");
            }
            int n = r.getN() == 0 ? 1 : r.getN();
            return NotifyConditionResponse.newBuilder()
                    .setWoken(table.notifyCondition(r.getName(), r.getLock(), session(), n, r.getAll())).build();
        });
    }

    @Override
    public void waitBarrier(WaitBarrierRequest r, StreamObserver<WaitBarrierResponse> out) {
        String owner = session();
        SyncServiceAdapter.<SyncResults.BarrierPassed, WaitBarrierResponse>blocking(out, cb -> {
            if (r.getParties() < 0) {
                throw new InvalidArgument("parties", "must not be negative");
            }
            return table.waitBarrier(r.getName(), r.getParties(), owner, timeout(r.hasTimeout(), r.getTimeout()), cb);
        }, b -> WaitBarrierResponse.newBuilder().setIndex(b.index()).setBroken(b.broken())
                .setTimedOut(b.timedOut()).build(), b -> {});
    }

    @Override
    public void abortBarrier(AbortBarrierRequest r, StreamObserver<AbortBarrierResponse> out) {
        kept(out, () -> AbortBarrierResponse.newBuilder().setWoken(table.abortBarrier(r.getName())).build());
    }

    @Override
    public void resetBarrier(ResetBarrierRequest r, StreamObserver<ResetBarrierResponse> out) {
        kept(out, () -> ResetBarrierResponse.newBuilder().setWoken(table.resetBarrier(r.getName())).build());
    }

    // ---- helpers -----------------------------------------------------------------------------

    /**
     * A unary call that changes the table: answered once the change is in the store, so that what
     * the client was told (a release, a set event) survives a crash of the server.
     */
    private <T> void kept(StreamObserver<T> out, Supplier<T> body) {
        T result;
        try {
            result = body.get();
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
            return;
        }
        CompletableFuture<Void> committed = table.committed();
        if (committed.isDone() && !committed.isCompletedExceptionally()) {
            out.onNext(result);
            out.onCompleted();
            return;
        }
        committed.whenComplete((v, e) -> {
            if (e != null) {
                out.onError(ErrorMapper.toStatus(new ForkdException.Unavailable("STATE_STORE_UNAVAILABLE",
                        "the state store could not keep this change, so a restart may undo it; try again")));
            } else {
                out.onNext(result);
                out.onCompleted();
            }
        });
    }

    /**
     * A call answered by a core callback, maybe much later and on another thread. A cancelled
     * call cancels its wait; a result that arrives after the caller left is undone by {@code orphaned}.
     */
    private static <T, R> void blocking(StreamObserver<R> out, Function<Callback<T>, Pending> start,
            Function<T, R> encode, java.util.function.Consumer<T> orphaned) {
        var call = (ServerCallStreamObserver<R>) out;
        AtomicReference<Pending> pending = new AtomicReference<>();
        call.setOnCancelHandler(() -> {
            Pending p = pending.getAndSet(Pending.NONE);
            if (p != null) {
                p.cancel();
            }
        });
        Callback<T> cb = new Callback<>() {
            @Override
            public void done(T result) {
                synchronized (call) {
                    if (call.isCancelled()) {
                        try {
                            orphaned.accept(result);
                        } catch (ForkdException ignored) {
                            // e.g. the session ended meanwhile, which released it anyway
                        }
                        return;
                    }
                    call.onNext(encode.apply(result));
                    call.onCompleted();
                }
            }

            @Override
            public void failed(ForkdException e) {
                synchronized (call) {
                    if (!call.isCancelled()) {
                        call.onError(ErrorMapper.toStatus(e));
                    }
                }
            }
        };
        try {
            Pending p = start.apply(cb);
            if (!pending.compareAndSet(null, p)) {
                p.cancel(); // cancelled while we started it
            }
        } catch (RuntimeException e) {
            synchronized (call) {
                call.onError(ErrorMapper.toStatus(e));
            }
        }
    }

    private static String session() {
        String s = Metadata.SESSION_ID.get();
        return s == null ? "" : s;
    }

    private static Optional<Duration> timeout(boolean has, com.google.protobuf.Duration d) {
        return Protos.timeout("timeout", has, d);
    }

    static Optional<dev.forkd.server.sync.SyncKind> kind(SyncKind k) {
        return switch (k) {
            case SYNC_KIND_UNSPECIFIED -> Optional.empty();
            case SYNC_KIND_LOCK -> Optional.of(dev.forkd.server.sync.SyncKind.LOCK);
            case SYNC_KIND_RLOCK -> Optional.of(dev.forkd.server.sync.SyncKind.RLOCK);
            case SYNC_KIND_SEMAPHORE -> Optional.of(dev.forkd.server.sync.SyncKind.SEMAPHORE);
            case SYNC_KIND_BOUNDED_SEMAPHORE -> Optional.of(dev.forkd.server.sync.SyncKind.BOUNDED_SEMAPHORE);
            case SYNC_KIND_EVENT -> Optional.of(dev.forkd.server.sync.SyncKind.EVENT);
            case SYNC_KIND_CONDITION -> Optional.of(dev.forkd.server.sync.SyncKind.CONDITION);
            case SYNC_KIND_BARRIER -> Optional.of(dev.forkd.server.sync.SyncKind.BARRIER);
            case UNRECOGNIZED -> throw new InvalidArgument("kind", "is not a kind this server knows");
        };
    }

    static SyncKind proto(dev.forkd.server.sync.SyncKind k) {
        return SyncKind.valueOf("SYNC_KIND_" + k.name());
    }

    static SyncInfo info(SyncResults.Info i) {
        return SyncInfo.newBuilder().setName(i.name()).setKind(proto(i.kind()))
                .setHolderSession(i.holder().orElse("")).setDepth(i.depth()).setFencingToken(i.fencingToken())
                .setWaiters(i.waiters()).setValue(i.value()).setInitialValue(i.initialValue()).setIsSet(i.isSet())
                .setLock(i.lock()).setParties(i.parties()).setArrived(i.arrived()).setBroken(i.broken()).build();
    }
}
