package dev.forkd.server.sync;

import dev.forkd.server.error.ForkdException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What one call into {@link SyncTable} changed, and what it must tell: the primitives whose record
 * the store must keep, and the callbacks to run once the monitor is released and those records are
 * committed. A grant is never answered before the store has it, so no answered token or count is
 * lost by a crash.
 */
final class Effects {

    private static final Logger LOG = Logger.getLogger(Effects.class.getName());

    private record Told(Runnable ok, Runnable onStoreFailure) {}

    private final List<Told> told = new ArrayList<>();
    /** Changed (or deleted) primitives, in the order they changed. */
    final Set<Primitive> changed = new LinkedHashSet<>();
    private CompletableFuture<Void> committed;

    /** A callback that needs nothing kept, or whose store failure changes nothing it says. */
    void add(Runnable r) {
        told.add(new Told(r, r));
    }

    /** A callback that tells of a change: if the store cannot keep it, {@code lost} runs instead. */
    void add(Runnable ok, Runnable lost) {
        told.add(new Told(ok, lost));
    }

    void changed(Primitive p) {
        changed.add(p);
    }

    /** The write that keeps this call's changes (set under the monitor, so writes keep their order). */
    void committedBy(CompletableFuture<Void> write) {
        committed = write;
    }

    /** Runs the callbacks, once the changes are committed; each on its own, so one that throws stops none. */
    void run() {
        if (told.isEmpty()) {
            return;
        }
        if (committed == null || committed.isDone() && !committed.isCompletedExceptionally()) {
            runAll(true);
            return;
        }
        committed.whenComplete((v, e) -> {
            if (e != null) {
                LOG.log(Level.SEVERE, "the state store could not keep a lock change; its callers are told UNAVAILABLE", e);
            }
            runAll(e == null);
        });
    }

    private void runAll(boolean kept) {
        for (Told t : told) {
            try {
                (kept ? t.ok : t.onStoreFailure).run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a sync callback failed", e);
            }
        }
    }

    static ForkdException storeFailed() {
        return new ForkdException.Unavailable("STATE_STORE_UNAVAILABLE",
                "the state store could not keep this lock change, so a restart may undo it; try again");
    }
}
