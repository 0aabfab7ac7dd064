package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The calls blocked on one queue, in three lines, each first come, first served: putters waiting
 * for room, takers waiting for items (Take calls, and Consume streams with credit taking turns), and
 * joiners waiting for every task to be done. At most the server's limit of them wait at once.
 *
 * <p>Besides admitting the head putter and serving the head taker when the queue's dispatch asks,
 * this only holds the lines; the queue's lock guards them. The answers of calls that end here are
 * added to {@code after}, to run once that lock is released.
 */
final class QueueWaiters {

    private final int maxWaiters;
    private final ArrayDeque<PendingPut> putters = new ArrayDeque<>();
    private final ArrayDeque<Taker> takers = new ArrayDeque<>();
    private final List<JoinCall> joiners = new ArrayList<>();

    QueueWaiters(int maxWaiters) {
        this.maxWaiters = maxWaiters;
    }

    /** @throws ForkdException.ResourceExhausted if the queue already has as many blocked callers as allowed */
    void requireRoom(String label) {
        if (putters.size() + takers.size() + joiners.size() >= maxWaiters) {
            throw new ForkdException.ResourceExhausted("TOO_MANY_WAITERS", label + " already has "
                    + maxWaiters + " blocked callers (the server's limit per queue)");
        }
    }

    /** Blocked Put calls (a producer's batches are counted as its stream). */
    int unaryPutters() {
        return (int) putters.stream().filter(p -> p.unary).count();
    }

    /** Blocked Take calls (a consumer with credit is counted as its stream). */
    int takeCalls() {
        return (int) takers.stream().filter(t -> t instanceof TakeCall).count();
    }

    void add(Waiter w) {
        switch (w) {
            case PendingPut p -> putters.addLast(p);
            case TakeCall t -> takers.addLast(t);
            case JoinCall j -> joiners.add(j);
        }
    }

    boolean contains(Waiter w) {
        return switch (w) {
            case PendingPut p -> putters.contains(p);
            case TakeCall t -> takers.contains(t);
            case JoinCall j -> joiners.contains(j);
        };
    }

    /** Takes {@code w} out of its line; false if it no longer waits. */
    boolean remove(Waiter w) {
        return switch (w) {
            case PendingPut p -> putters.remove(p);
            case TakeCall t -> takers.remove(t);
            case JoinCall j -> joiners.remove(j);
        };
    }

    /**
     * {@code w} leaves its line without being served, if it still waits: its deadline stops, a
     * putter's bytes go back to the budget, and with {@code timedOut} its timed-out answer is added
     * to {@code after}. Returns whether it still waited.
     */
    boolean leave(Waiter w, boolean timedOut, QueueContents contents, MemoryBudget memory, List<Runnable> after) {
        if (!remove(w)) {
            return false;
        }
        w.stopDeadline();
        if (timedOut) {
            after.add(w.timedOut(contents));
        }
        if (w instanceof PendingPut p) {
            p.refund(memory);
        }
        return true;
    }

    // ---------------------------------------------------------------- putters

    /**
     * Moves into {@code contents} what fits of the head putter's batch; true if it moved anything.
     * A putter whose batch is all in leaves the line, and its answer is added to {@code after} (for a
     * durable queue, after the store's commit of its items, which this thread makes once the lock is
     * released).
     */
    boolean admitHead(QueueContents contents, String label, List<Runnable> after) {
        PendingPut p = putters.peekFirst();
        if (p == null) {
            return false;
        }
        boolean moved = p.admitInto(contents) > 0;
        boolean whole = p.remaining() == 0;
        if (whole) {
            putters.pollFirst();
            p.stopDeadline();
            after.add(p.admitted); // before the answer, which may come at once
        }
        if (moved && contents.durable()) {
            after.add(contents::commitStore); // on this thread, once the lock is released
        }
        if (whole) {
            Outcomes.Put.Done result = new Outcomes.Put.Done(p.batch.size(), contents.size());
            after.add(() -> p.answerOnceStored(result, label));
        }
        return moved;
    }

    /** The queue closed: every blocked putter fails with {@code error} and its bytes go back. */
    void failPutters(ForkdException error, MemoryBudget memory, List<Runnable> after) {
        for (PendingPut p : putters) {
            p.stopDeadline();
            p.refund(memory);
            after.add(p.failed(error));
        }
        putters.clear();
    }

    // ---------------------------------------------------------------- takers

    /**
     * Hands items to the head taker: a Take call gets what one reply holds and is answered; a consumer
     * gets what its credit allows and goes to the back of the line while it has credit left. True if
     * it handed any, or dropped a Take call whose caller is gone (so the next in line is served).
     */
    boolean serveHead(QueueContents contents, QueueConsumers consumers, List<Runnable> after) {
        if (contents.isEmpty() || takers.isEmpty()) {
            return false;
        }
        switch (takers.pollFirst()) {
            case TakeCall t when t.callerGone() -> t.stopDeadline(); // gone before its cancel arrived: it takes nothing
            case TakeCall t -> {
                List<Item> got = contents.take(t.max);
                t.stopDeadline();
                after.add(t.took(got));
            }
            case QueueConsumer c -> {
                if (consumers.serve(c, contents)) {
                    takers.addLast(c); // round robin among consumers with credit
                }
            }
        }
        return true;
    }

    /** A consumer with credit joins the end of the line. */
    void ready(QueueConsumer c) {
        takers.addLast(c);
    }

    /** A consumer leaves the line, wherever it is. */
    void leave(QueueConsumer c) {
        takers.remove(c);
    }

    /** The queue is drained: every Take call learns it, and the line empties (consumers are ended apart). */
    void drainTakers(List<Runnable> after) {
        for (Taker t : takers) {
            if (t instanceof TakeCall tc) {
                tc.stopDeadline();
                after.add(tc.drained());
            }
        }
        takers.clear();
    }

    // ---------------------------------------------------------------- joiners

    /** Nothing is unfinished: every joiner is answered. */
    void joinersDone(List<Runnable> after) {
        for (JoinCall j : joiners) {
            j.stopDeadline();
            after.add(j.joined());
        }
        joiners.clear();
    }

    // ---------------------------------------------------------------- all

    /** The queue was deleted: every blocked call fails with {@code error}, and the lines empty. */
    void failAll(ForkdException error, MemoryBudget memory, List<Runnable> after) {
        failPutters(error, memory, after);
        for (Taker t : takers) {
            if (t instanceof TakeCall tc) {
                tc.stopDeadline();
                after.add(tc.failed(error));
            }
        }
        takers.clear();
        for (JoinCall j : joiners) {
            j.stopDeadline();
            after.add(j.failed(error));
        }
        joiners.clear();
    }
}
