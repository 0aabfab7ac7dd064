package dev.forkd.agent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The children the agent runs, bounded by its capacity. A child stays here from its spawn until its
 * ChildExited is sent. Spawning happens under this table's lock (see {@link ChildLauncher}),
 * so the reaper never sees a pid that is not yet in the table.
 */
final class ChildTable {
    private final int capacity;
    private final Map<ChildKey, Child> byKey = new HashMap<>();
    private final Map<Integer, Child> byPid = new HashMap<>();
    private final CompletableFuture<Void> emptyAfterClose = new CompletableFuture<>();
    private boolean closed;
    /** Children forgotten whose ChildExited is not sent yet. */
    private int exitsUnsent;

    ChildTable(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        this.capacity = capacity;
    }

    int capacity() {
        return capacity;
    }

    synchronized int size() {
        return byKey.size();
    }

    synchronized boolean isFull() {
        return byKey.size() >= capacity;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    synchronized boolean contains(ChildKey key) {
        return byKey.containsKey(key);
    }

    synchronized void add(Child child) {
        if (closed || byKey.size() >= capacity) {
            throw new IllegalStateException("table is closed or full; check before spawning");
        }
        byKey.put(child.key(), child);
        byPid.put(child.pid(), child);
    }

    synchronized Optional<Child> byKey(ChildKey key) {
        return Optional.ofNullable(byKey.get(key));
    }

    synchronized Optional<Child> byPid(int pid) {
        return Optional.ofNullable(byPid.get(pid));
    }

    synchronized List<Child> all() {
        return new ArrayList<>(byKey.values());
    }

    /**
     * Forgets a child that has ended, freeing its slot at once: the supervisor may send the next
     * start as soon as it reads the exit. Call {@link #exitSent()} once its ChildExited is sent:
     * the drain after a close waits for that (what waits for it ends the stream, which must carry
     * every exit).
     */
    synchronized void forget(Child child) {
        if (byKey.remove(child.key(), child)) {
            exitsUnsent++;
        }
        byPid.remove(child.pid(), child);
    }

    /** The ChildExited of a child {@link #forget forgotten} was sent. */
    void exitSent() {
        boolean drained;
        synchronized (this) {
            exitsUnsent--;
            drained = closed && byKey.isEmpty() && exitsUnsent == 0;
        }
        // Completed outside the lock: what waits on it (completing the stream) must not run under it.
        if (drained) {
            emptyAfterClose.complete(null);
        }
    }

    /** Refuses further children; the future completes once the last one has been removed. */
    CompletableFuture<Void> close() {
        boolean drained;
        synchronized (this) {
            closed = true;
            drained = byKey.isEmpty() && exitsUnsent == 0;
        }
        if (drained) {
            emptyAfterClose.complete(null);
        }
        return emptyAfterClose;
    }
}
