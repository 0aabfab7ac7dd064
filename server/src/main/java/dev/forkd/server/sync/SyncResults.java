package dev.forkd.server.sync;

import dev.forkd.server.error.ForkdException;
import java.util.Optional;

/** The values the sync core answers with. */
public final class SyncResults {

    private SyncResults() {}

    /** How a blocking call ends: with its result, or with an error (e.g. its session ended). */
    public interface Callback<T> {
        void done(T result);

        void failed(ForkdException e);
    }

    /** A blocked call that its caller gave up on (cancelled RPC). */
    public interface Pending {
        Pending NONE = () -> {};

        void cancel();
    }

    /** An Acquire's answer; {@code acquired=false} means the timeout passed first. */
    public record Grant(boolean acquired, long fencingToken, boolean abandoned, int depth) {
        static final Grant TIMED_OUT = new Grant(false, 0, false, 0);
    }

    /** What a CancelAcquire undid: a wait that stopped, or a grant released (or neither). */
    public record Undone(boolean wasWaiting, boolean released) {}

    /** What is left after a Release: the RLock depth or the semaphore's value. */
    public record Released(int depth, int value) {}

    /** A Condition wait's answer: notified or timed out; the lock is held again either way. */
    public record ConditionWoken(boolean notified, long fencingToken, boolean abandoned) {}

    /** A Barrier wait's answer: an arrival index, or broken (and why: this caller's timeout). */
    public record BarrierPassed(int index, boolean broken, boolean timedOut) {}

    /** One primitive's state, for Get and List; fields that do not apply to its kind are zero. */
    public record Info(String name, SyncKind kind, Optional<String> holder, int depth, long fencingToken,
            int waiters, int value, int initialValue, boolean isSet, String lock, int parties, int arrived,
            boolean broken) {}
}
