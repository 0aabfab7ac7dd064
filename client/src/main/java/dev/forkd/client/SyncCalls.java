package dev.forkd.client;

import com.google.common.util.concurrent.ListenableFuture;
import dev.forkd.v1.AbortBarrierRequest;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.CancelAcquireRequest;
import dev.forkd.v1.ClearEventRequest;
import dev.forkd.v1.CreateSyncRequest;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.NotifyConditionRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.ResetBarrierRequest;
import dev.forkd.v1.SetEventRequest;
import dev.forkd.v1.SyncInfo;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.WaitBarrierRequest;
import dev.forkd.v1.WaitConditionRequest;
import dev.forkd.v1.WaitEventRequest;
import io.grpc.Status;
import java.time.Duration;
import java.util.UUID;

/** The sync RPCs in the library's types: the only sync code that knows the protos. */
final class SyncCalls {

    /** An acquire's answer: whether it was granted, and with what. */
    record Grant(boolean acquired, long fencingToken, boolean abandoned) {}

    /** A barrier wait's answer. */
    record Arrival(int index, boolean broken, boolean timedOut) {}

    /** What the library reads of a primitive's state. */
    record State(int value, boolean set, int parties, int arrived, boolean broken, int waiters) {}

    private final Rpc rpc;

    SyncCalls(Rpc rpc) {
        this.rpc = rpc;
    }

    /**
     * Acquires as the JDK's interruptible methods wait: an interrupt gives the wait up. A wait given
     * up (an interrupt, or the call's own deadline) is undone on the server, whatever became of it
     * there, so that a grant this client never saw is not left held by its session.
     *
     * @param timeout null waits until acquired; zero only tries
     */
    Grant acquireInterruptibly(String name, boolean semaphore, Duration timeout) throws InterruptedException {
        String waitId = UUID.randomUUID().toString();
        try {
            return Rpc.interruptibly(acquire(name, semaphore, timeout, waitId));
        } catch (InterruptedException e) {
            undo(name, waitId);
            throw e;
        } catch (ForkdException e) {
            throw undoneIfGivenUp(e, name, waitId);
        }
    }

    /** Acquires as {@code Lock.lock()} waits: an interrupt is remembered, and the wait goes on. */
    Grant acquireUninterruptibly(String name, boolean semaphore, Duration timeout) {
        String waitId = UUID.randomUUID().toString();
        try {
            return Rpc.uninterruptibly(acquire(name, semaphore, timeout, waitId));
        } catch (ForkdException e) {
            throw undoneIfGivenUp(e, name, waitId);
        }
    }

    private ListenableFuture<Grant> acquire(String name, boolean semaphore, Duration timeout, String waitId) {
        AcquireRequest.Builder b = AcquireRequest.newBuilder().setName(name)
                .setKind(semaphore ? SyncKind.SYNC_KIND_SEMAPHORE : SyncKind.SYNC_KIND_LOCK).setWaitId(waitId);
        if (timeout != null) {
            b.setTimeout(ProtoTime.of(timeout));
        }
        return Rpc.map(rpc.syncWaiting(timeout).acquire(b.build()),
                r -> new Grant(r.getAcquired(), r.getFencingToken(), r.getAbandoned()));
    }

    /** A call that ended without an answer may have been granted: undo it, then report the failure. */
    private ForkdException undoneIfGivenUp(ForkdException e, String name, String waitId) {
        if (e.code() == Status.Code.DEADLINE_EXCEEDED || e.code() == Status.Code.CANCELLED
                || e.code() == Status.Code.UNAVAILABLE) {
            undo(name, waitId);
        }
        return e;
    }

    /**
     * Undoes a wait given up on. If even that fails (the server is gone), whatever the session was
     * granted comes back when the session ends.
     */
    private void undo(String name, String waitId) {
        try {
            Rpc.call(() -> rpc.sync().cancelAcquire(CancelAcquireRequest.newBuilder().setName(name)
                    .setWaitId(waitId).build()));
        } catch (ForkdException ignored) {
            // see above: the session's end gives it back
        }
    }

    void release(String name) {
        Rpc.call(() -> rpc.sync().release(ReleaseRequest.newBuilder().setName(name).build()));
    }

    void createSemaphore(String name, int permits) {
        createIfNew(CreateSyncRequest.newBuilder().setName(name).setKind(SyncKind.SYNC_KIND_SEMAPHORE)
                .setValue(permits).build());
    }

    void createBarrier(String name, int parties) {
        createIfNew(CreateSyncRequest.newBuilder().setName(name).setKind(SyncKind.SYNC_KIND_BARRIER)
                .setParties(parties).build());
    }

    /** Creates, or accepts the one already there (its settings are the server's to keep). */
    private void createIfNew(CreateSyncRequest request) {
        try {
            Rpc.call(() -> rpc.sync().create(request));
        } catch (ForkdException e) {
            if (e.code() != Status.Code.ALREADY_EXISTS) {
                throw e;
            }
        }
    }

    State get(String name) {
        SyncInfo i = Rpc.call(() -> rpc.sync().get(GetSyncRequest.newBuilder().setName(name).build())).getInfo();
        return new State(i.getValue(), i.getIsSet(), i.getParties(), i.getArrived(), i.getBroken(), i.getWaiters());
    }

    void setEvent(String name) {
        Rpc.call(() -> rpc.sync().setEvent(SetEventRequest.newBuilder().setName(name).build()));
    }

    void clearEvent(String name) {
        Rpc.call(() -> rpc.sync().clearEvent(ClearEventRequest.newBuilder().setName(name).build()));
    }

    /** Whether the event is set after waiting up to {@code timeout} (null: no limit; zero: look). */
    ListenableFuture<Boolean> waitEvent(String name, Duration timeout) {
        WaitEventRequest.Builder b = WaitEventRequest.newBuilder().setName(name);
        if (timeout != null) {
            b.setTimeout(ProtoTime.of(timeout));
        }
        return Rpc.map(rpc.syncWaiting(timeout).waitEvent(b.build()), r -> r.getIsSet());
    }

    /** Condition.wait: true when notified, false when the timeout passed; the lock is held again either way. */
    ListenableFuture<Grant> waitCondition(String name, String lock, Duration timeout) {
        WaitConditionRequest.Builder b = WaitConditionRequest.newBuilder().setName(name).setLock(lock);
        if (timeout != null) {
            b.setTimeout(ProtoTime.of(timeout));
        }
        return Rpc.map(rpc.syncWaiting(timeout).waitCondition(b.build()),
                r -> new Grant(r.getNotified(), r.getFencingToken(), r.getAbandoned()));
    }

    void notifyCondition(String name, String lock, boolean all) {
        Rpc.call(() -> rpc.sync().notifyCondition(NotifyConditionRequest.newBuilder().setName(name).setLock(lock)
                .setN(1).setAll(all).build()));
    }

    ListenableFuture<Arrival> waitBarrier(String name, int parties, Duration timeout) {
        WaitBarrierRequest.Builder b = WaitBarrierRequest.newBuilder().setName(name).setParties(parties);
        if (timeout != null) {
            b.setTimeout(ProtoTime.of(timeout));
        }
        return Rpc.map(rpc.syncWaiting(timeout).waitBarrier(b.build()),
                r -> new Arrival(r.getIndex(), r.getBroken(), r.getTimedOut()));
    }

    void abortBarrier(String name) {
        Rpc.call(() -> rpc.sync().abortBarrier(AbortBarrierRequest.newBuilder().setName(name).build()));
    }

    void resetBarrier(String name) {
        Rpc.call(() -> rpc.sync().resetBarrier(ResetBarrierRequest.newBuilder().setName(name).build()));
    }
}
