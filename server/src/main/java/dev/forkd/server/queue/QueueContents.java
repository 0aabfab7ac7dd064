package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.memory.ReplySize;
import dev.forkd.server.queue.Outcomes.Delivery;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * What one queue holds: its items in order, those in flight to consumers, the counts, and what the
 * memory budget and (for a durable queue) the store are told as items come and go. The blocked
 * callers are {@link ItemQueue}'s; this is only the holding, guarded by that queue's lock.
 *
 * <p>The memory budget is charged by the putter before an item enters; it is refunded here when the
 * item leaves for good (taken, acked, or the queue deleted).
 */
final class QueueContents {

    private final String id;
    private final Optional<String> name;
    private final long maxsize;
    private final long maxBytes;
    private final MemoryBudget memory;
    private final QueueJournal journal;

    private final ArrayDeque<QueueEntry> items = new ArrayDeque<>();
    private long nextSeq = 1;
    private long nextTag = 1;
    private long bytes;
    private long inFlight;
    private long inFlightBytes;
    private long unfinished;
    private long totalPut;
    private long totalTaken;
    private boolean closed;

    QueueContents(String id, Optional<String> name, long maxsize, long maxBytes, MemoryBudget memory,
            QueueJournal journal) {
        this.id = id;
        this.name = name;
        this.maxsize = maxsize;
        this.maxBytes = maxBytes;
        this.memory = memory;
        this.journal = journal;
    }

    boolean durable() {
        return journal.durable();
    }

    long size() {
        return items.size();
    }

    boolean isEmpty() {
        return items.isEmpty();
    }

    long inFlight() {
        return inFlight;
    }

    long unfinished() {
        return unfinished;
    }

    boolean closed() {
        return closed;
    }

    /** Closed, empty and nothing in flight: no item will ever come out again. */
    boolean drained() {
        return closed && items.isEmpty() && inFlight == 0;
    }

    QueueSnapshot snapshot(int producers, int consumers) {
        return new QueueSnapshot(id, name, maxsize, items.size(), inFlight, unfinished, closed, drained(), producers,
                consumers, bytes + inFlightBytes, totalPut, totalTaken, journal.durable());
    }

    /** What the store keeps of the queue (its definition), as it is now. */
    QueueRecords.Definition definition() {
        return new QueueRecords.Definition(id, name, maxsize, closed, unfinished - items.size() - inFlight);
    }

    /** Puts back what the store kept, charging the budget (which may refuse). */
    void restore(List<QueueEntry> stored, long next, long undone, boolean wasClosed, String what) {
        long cost = 0;
        for (QueueEntry e : stored) {
            cost += e.item().cost();
        }
        memory.reserve(cost, stored.size() + " stored items of " + what);
        for (QueueEntry e : stored) {
            items.addLast(e);
            nextSeq = Math.max(nextSeq, e.seq() + 1);
        }
        nextSeq = Math.max(nextSeq, next);
        bytes += cost;
        unfinished = stored.size() + undone;
        totalPut = stored.size();
        closed = wasClosed;
    }

    /** Room for {@code count} more items of {@code cost} bytes (in-flight items count). */
    boolean fits(long count, long cost) {
        return items.size() + inFlight + count <= maxsize && bytes + inFlightBytes + cost <= maxBytes;
    }

    /** Items entered (their budget already charged); the future completes once the store has them. */
    java.util.concurrent.CompletableFuture<Void> append(List<Item> batch, int from, int to) {
        List<QueueEntry> entered = journal.durable() ? new ArrayList<>(to - from) : List.of();
        for (int i = from; i < to; i++) {
            Item it = batch.get(i);
            QueueEntry e = new QueueEntry(it, nextSeq++, false);
            items.addLast(e);
            bytes += it.cost();
            unfinished++;
            totalPut++;
            if (journal.durable()) {
                entered.add(e);
            }
        }
        return journal.added(entered);
    }

    /** Commits what {@link #append} staged in the store, on this thread (called without the queue's lock). */
    void commitStore() {
        journal.commit();
    }

    /** The cost of the head item (the queue must not be empty). */
    long headCost() {
        return items.peekFirst().item().cost();
    }

    /** Takes up to {@code max} items for a Take: they leave for good (at-most-once). */
    List<Item> take(int max) {
        List<Item> got = new ArrayList<>(Math.min(max, items.size()));
        List<QueueEntry> gone = journal.durable() ? new ArrayList<>() : List.of();
        long gotBytes = 0;
        while (got.size() < max && !items.isEmpty() && ReplySize.fits(got.size(), gotBytes, headCost())) {
            QueueEntry e = items.pollFirst();
            bytes -= e.item().cost();
            gotBytes += e.item().cost();
            got.add(e.item());
            if (journal.durable()) {
                gone.add(e);
            }
        }
        memory.release(gotBytes);
        totalTaken += got.size();
        if (journal.durable()) {
            // Taken is gone; still unfinished until task_done, which the definition keeps.
            journal.removed(gone, Optional.of(definition()));
        }
        return got;
    }

    /** Delivers up to {@code max} items to a consumer, which holds them in {@code unacked} until acked. */
    List<Delivery> deliver(int max, Map<Long, QueueEntry> unacked) {
        List<Delivery> batch = new ArrayList<>(Math.min(max, items.size()));
        long batchBytes = 0;
        while (batch.size() < max && !items.isEmpty() && ReplySize.fits(batch.size(), batchBytes, headCost())) {
            QueueEntry e = items.pollFirst();
            long cost = e.item().cost();
            batchBytes += cost;
            bytes -= cost;
            inFlight++;
            inFlightBytes += cost;
            Delivery d = new Delivery(nextTag++, e.item(), e.redelivered());
            unacked.put(d.tag(), e);
            batch.add(d);
        }
        return batch;
    }

    /**
     * Acks a consumer's deliveries by tag and every tag up to {@code through}; returns how many.
     *
     * @throws ForkdException.FailedPrecondition with {@code taskDone}, if that is more than unfinished
     */
    int ack(LinkedHashMap<Long, QueueEntry> unacked, List<Long> tags, long through, boolean taskDone,
            LongFunction<ForkdException> tooManyDone) {
        // A set: a tag repeated in one ack is acked once, like a tag acked twice, or unknown.
        Set<Long> hit = new LinkedHashSet<>();
        for (Long tag : tags) {
            if (unacked.containsKey(tag)) {
                hit.add(tag);
            }
        }
        int upTo = 0;
        for (Long tag : unacked.keySet()) {
            if (tag > through) {
                break; // tags grow in delivery order
            }
            if (!hit.contains(tag)) {
                upTo++;
            }
        }
        int n = hit.size() + upTo;
        if (taskDone && n > unfinished) {
            throw tooManyDone.apply(n);
        }
        List<QueueEntry> gone = journal.durable() ? new ArrayList<>(n) : List.of();
        for (Long tag : hit) {
            release(unacked.remove(tag), gone);
        }
        Iterator<Map.Entry<Long, QueueEntry>> it = unacked.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, QueueEntry> e = it.next();
            if (e.getKey() > through) {
                break;
            }
            release(e.getValue(), gone);
            it.remove();
        }
        totalTaken += n;
        if (taskDone) {
            unfinished -= n;
        }
        if (journal.durable()) {
            // Acked without task_done: still unfinished, which only the definition now remembers.
            journal.removed(gone, taskDone || n == 0 ? Optional.empty() : Optional.of(definition()));
        }
        return n;
    }

    /** An acked delivery leaves the server (and the store, with {@code gone}). */
    private void release(QueueEntry e, List<QueueEntry> gone) {
        inFlight--;
        inFlightBytes -= e.item().cost();
        memory.release(e.item().cost());
        if (journal.durable()) {
            gone.add(e);
        }
    }

    /** A consumer's unacked deliveries go back to the head, in their order; returns how many. */
    int putBack(LinkedHashMap<Long, QueueEntry> unacked) {
        List<QueueEntry> back = new ArrayList<>(unacked.values());
        for (int i = back.size() - 1; i >= 0; i--) {
            QueueEntry e = back.get(i);
            inFlight--;
            inFlightBytes -= e.item().cost(); // back in the queue: still held, still charged (and stored)
            items.addFirst(e.redelivery());
            bytes += e.item().cost();
        }
        unacked.clear();
        return back.size();
    }

    /** Marks {@code count} tasks done (the caller checked it is not too many); returns how many remain. */
    long taskDone(int count) {
        unfinished -= count;
        if (journal.durable()) {
            journal.removed(List.of(), Optional.of(definition()));
        }
        return unfinished;
    }

    void close() {
        closed = true;
        if (journal.durable()) {
            journal.removed(List.of(), Optional.of(definition()));
        }
    }

    /** Drops everything (the queue is deleted); returns how many items there were. */
    long drop() {
        long dropped = items.size() + inFlight;
        journal.deleted();
        items.clear();
        memory.release(bytes + inFlightBytes);
        bytes = inFlight = inFlightBytes = 0;
        return dropped;
    }
}
