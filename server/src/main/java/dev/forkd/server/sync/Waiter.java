package dev.forkd.server.sync;

import dev.forkd.server.sync.SyncResults.BarrierPassed;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.ConditionWoken;
import dev.forkd.server.sync.SyncResults.Grant;
import dev.forkd.server.sync.SyncResults.Pending;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

/** A blocked call: in exactly one primitive's queue until it is done. */
final class Waiter implements Pending {
    final String owner; // "" when the call has no session (events, barriers)
    private final Consumer<Waiter> onCancel;
    Primitive queue;
    int depth = 1;
    boolean notified;
    int index;
    Callback<Grant> onGrant;
    Callback<Boolean> onEvent;
    Callback<ConditionWoken> onCondition;
    Callback<BarrierPassed> onBarrier;
    ScheduledFuture<?> timer;
    boolean done;

    /** When it began to wait (the table's {@code nanoTime}), for the wait time a grant reports. */
    final long since;

    Waiter(String owner, long since, Consumer<Waiter> onCancel) {
        this.owner = owner;
        this.since = since;
        this.onCancel = onCancel;
    }

    @Override
    public void cancel() {
        onCancel.accept(this);
    }
}
