package dev.forkd.server.store;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The writes waiting for their commit in {@link SqliteStateStore}, in the order they were made, and
 * what its writer thread is to do next: commit at once when a write asks for it ({@code write}),
 * commit a staged write once it has waited {@link #STAGED_WAIT_NANOS} (nobody committed it), and
 * checkpoint once the commits have written about {@link #CHECKPOINT_BYTES} since the last one. Bounded:
 * past {@link #MAX_BACKLOG} writes, a write fails at once instead of growing the heap.
 */
final class PendingWrites {

    /** Writes waiting for their commit; past this the disk is far behind, and a write fails. */
    static final int MAX_BACKLOG = 200_000;
    /** Writes per transaction at most, so one commit's work (and latency) stays bounded. */
    static final int MAX_GROUP = 20_000;
    /** A staged write waits at most this long for a commit that nobody started. */
    static final long STAGED_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** The writer checkpoints once the commits since the last one wrote about this much (~1,000 pages). */
    static final long CHECKPOINT_BYTES = 4L << 20;
    /** What a row costs the WAL besides its value (key, kind, b-tree page): a rough count. */
    private static final long ROW_OVERHEAD = 100;

    /** Writes made together, their future, and when they were made. */
    record Pending(List<StoreWrite> writes, CompletableFuture<Void> done, long at) {
    }

    /** What the writer thread does next. */
    enum Next {
        COMMIT, CHECKPOINT, CHECKPOINT_AND_COMMIT, STOP
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    // Guarded by lock.
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private int backlog;
    /** A write asked for its commit now (else only staged writes wait). */
    private boolean urgent;
    /** About how much the commits wrote since the last checkpoint, and whether one is due. */
    private long walBytes;
    private boolean checkpointDue;
    private boolean closing;

    /** Queues {@code writes}; {@code now}: the writer commits them at once, else they are staged. */
    CompletableFuture<Void> add(List<StoreWrite> writes, boolean now) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        lock.lock();
        try {
            if (closing) {
                done.completeExceptionally(new StoreException("the state store is closed"));
            } else if (backlog + writes.size() > MAX_BACKLOG) {
                done.completeExceptionally(new StoreException("the state store is " + backlog
                        + " writes behind the server; try again"));
            } else {
                boolean first = queue.isEmpty();
                queue.add(new Pending(List.copyOf(writes), done, System.nanoTime()));
                backlog += writes.size();
                if (now) {
                    urgent = true;
                    work.signal();
                } else if (first) {
                    work.signal(); // the writer starts the staged write's clock
                }
            }
        } finally {
            lock.unlock();
        }
        return done;
    }

    /** Someone else is committing: the writer commits what waits right after it. */
    void hurry() {
        lock.lock();
        try {
            if (!queue.isEmpty()) {
                urgent = true;
                work.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next group to commit, in order: what waits, up to {@link #MAX_GROUP} writes (at least one
     * call's). The caller holds the store's database lock, so groups commit in the order taken.
     */
    List<Pending> takeGroup() {
        List<Pending> group = new ArrayList<>();
        lock.lock();
        try {
            int size = 0;
            while (!queue.isEmpty() && (group.isEmpty() || size + queue.peek().writes().size() <= MAX_GROUP)) {
                Pending p = queue.poll();
                group.add(p);
                size += p.writes().size();
            }
            backlog -= size;
            if (!queue.isEmpty() && !group.isEmpty()) {
                urgent = true; // more than one transaction's worth waited: the writer goes on
                work.signal();
            }
        } finally {
            lock.unlock();
        }
        return group;
    }

    /** Counts what a committed group added to the WAL; past {@link #CHECKPOINT_BYTES}, one is due. */
    void committed(List<Pending> group) {
        long bytes = 0;
        for (Pending p : group) {
            for (StoreWrite w : p.writes()) {
                bytes += ROW_OVERHEAD + (w instanceof StoreWrite.Put put ? put.value().length : 0);
            }
        }
        lock.lock();
        try {
            walBytes += bytes;
            if (walBytes >= CHECKPOINT_BYTES) {
                walBytes = 0;
                checkpointDue = true;
                work.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The writer thread waits here for its next task; {@link Next#STOP} once closed and drained. */
    Next awaitNext() {
        lock.lock();
        try {
            while (!closing && !urgent && !checkpointDue && !stagedDue()) {
                if (queue.isEmpty()) {
                    work.awaitUninterruptibly();
                    continue;
                }
                try {
                    work.awaitNanos(queue.peek().at() + STAGED_WAIT_NANOS - System.nanoTime());
                } catch (InterruptedException e) {
                    // nobody interrupts the writer; it waits on
                }
            }
            if (closing && queue.isEmpty()) {
                return Next.STOP;
            }
            boolean checkpoint = checkpointDue;
            checkpointDue = false;
            boolean commit = closing || urgent || stagedDue();
            if (commit) {
                urgent = false;
            }
            return !commit ? Next.CHECKPOINT : checkpoint ? Next.CHECKPOINT_AND_COMMIT : Next.COMMIT;
        } finally {
            lock.unlock();
        }
    }

    /** The oldest write waiting has waited long enough. */
    private boolean stagedDue() {
        return !queue.isEmpty() && System.nanoTime() - queue.peek().at() >= STAGED_WAIT_NANOS;
    }

    /** Later writes fail; the writer commits what waits, then stops. Returns false if already closing. */
    boolean close() {
        lock.lock();
        try {
            if (closing) {
                return false;
            }
            closing = true;
            work.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }
}
