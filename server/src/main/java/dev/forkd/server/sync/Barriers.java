package dev.forkd.server.sync;

import static dev.forkd.server.sync.Primitive.BROKEN;
import static dev.forkd.server.sync.Primitive.FILLING;

import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.FreeNames;
import dev.forkd.server.events.EventKind;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.sync.Primitive.Barrier;
import dev.forkd.server.sync.Primitive.BarrierState;
import dev.forkd.server.sync.SyncResults.BarrierPassed;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.Pending;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Barriers: FILLING until {@code parties} callers have arrived (each answered with its arrival
 * index), BROKEN by a timeout, an abort or a party that leaves, FILLING again on reset. Every method
 * runs under the {@link SyncTable}'s monitor.
 */
final class Barriers {

    private final Primitives ps;
    private final ServerEvents events;

    Barriers(Primitives ps, ServerEvents events) {
        this.ps = ps;
        this.events = events;
    }

    /** See {@link SyncTable#waitBarrier}. */
    Pending await(String name, int parties, String owner, Optional<Duration> timeout, Callback<BarrierPassed> done,
            Effects fx) {
        FreeNames.check(name);
        Primitive p = ps.byName.get(name);
        if (p == null) {
            if (parties <= 0) {
                throw new InvalidArgument("parties", "is required to create barrier \"" + name
                        + "\" (1-" + SyncTable.MAX_PARTIES + ")");
            }
            p = ps.newPrimitive(name, SyncKind.BARRIER, 0, parties, "", fx);
        }
        if (!(p instanceof Barrier b)) {
            throw SyncViews.wrongKind(p, SyncKind.BARRIER.withArticle());
        }
        if (parties != 0 && parties != b.parties) {
            throw new FailedPrecondition("BARRIER_PARTIES_MISMATCH", "barrier \"" + name + "\" has "
                    + b.parties + " parties, not " + parties);
        }
        if (b.state instanceof BarrierState.Broken) {
            Primitives.tell(fx, done, new BarrierPassed(0, true, false));
            return Pending.NONE;
        }
        int index = b.waiters.size();
        if (index + 1 == b.parties) {
            for (Waiter w; (w = b.waiters.poll()) != null; ) {
                Primitives.finish(w, fx);
                Primitives.tell(fx, w.onBarrier, new BarrierPassed(w.index, false, false));
            }
            Primitives.tell(fx, done, new BarrierPassed(index, false, false));
            return Pending.NONE;
        }
        Waiter w = ps.newWaiter(owner != null && ps.alive(owner) ? owner : "");
        w.index = index;
        w.onBarrier = done;
        if (!w.owner.isEmpty()) {
            ps.touch(w.owner, b);
        }
        if (timeout.isPresent() && timeout.get().isZero()) {
            breakIt(b, Optional.empty(), fx);
            Primitives.tell(fx, done, new BarrierPassed(0, true, true));
            return Pending.NONE;
        }
        return ps.enqueue(b, w, timeout);
    }

    /** Breaks the barrier; answers how many waiters were told. */
    int abort(String name, Effects fx) {
        Barrier b = barrier(name);
        int n = b.waiters.size();
        breakIt(b, Optional.empty(), fx);
        return n;
    }

    /** Back to empty and unbroken; current waiters are told it broke. */
    int reset(String name, Effects fx) {
        Barrier b = barrier(name);
        int n = b.waiters.size();
        breakIt(b, Optional.empty(), fx);
        b.state = FILLING; // BROKEN -> FILLING
        fx.changed(b);
        return n;
    }

    private Barrier barrier(String name) {
        Primitive p = ps.require(name);
        if (p instanceof Barrier b) {
            return b;
        }
        throw SyncViews.wrongKind(p, SyncKind.BARRIER.withArticle());
    }

    /** FILLING -> BROKEN: every waiter is told (the one whose timeout did it, as timed out). */
    void breakIt(Barrier b, Optional<Waiter> timedOut, Effects fx) {
        if (b.state instanceof BarrierState.Filling) {
            events.happened(dev.forkd.server.events.Event.of(EventKind.BARRIER_BROKEN, b.name, Optional.of(b.name),
                    Map.of("parties", Integer.toString(b.parties), "waiting", Integer.toString(b.waiters.size()),
                            "timed_out", Boolean.toString(timedOut.isPresent()))));
        }
        b.state = BROKEN;
        fx.changed(b);
        for (Waiter w; (w = b.waiters.poll()) != null; ) {
            Primitives.finish(w, fx);
            Primitives.tell(fx, w.onBarrier, new BarrierPassed(0, true, timedOut.isPresent() && timedOut.get() == w));
        }
    }
}
