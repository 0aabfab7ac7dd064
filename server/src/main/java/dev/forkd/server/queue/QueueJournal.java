package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreWrite;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

/**
 * What a durable queue writes to the {@link StateStore}: its definition under kind {@value #KIND}
 * (key: the registry's sequence, zero-padded, so queues load in creation order), and the items it
 * holds under kind {@code queue-item/<id>} in <em>segments</em>: the items that entered together (a
 * put, a produced batch), up to {@link #SEGMENT_ITEMS} items or {@link #SEGMENT_BYTES} bytes, in one
 * row whose key is the first item's sequence, zero-padded (so items load in order). A row per item
 * would cost the store one statement per item in and one per item out; a segment costs one for
 * each batch in and, as items leave, one per segment touched.
 *
 * <p>An item leaves the store when it leaves the queue for good (taken, or acked): a removal is
 * staged, so it rides along with the next commit (or the store's own, within a few milliseconds). A
 * segment whose items have all left is deleted; while some remain, which have left is kept beside it (kind
 * {@code queue-gone/<id>}, same key, a bit set), so a restart gives back exactly the items still
 * held. A delivery not yet acked has not left: a restart gives it back (at-least-once).
 *
 * <p>The queue calls this under its lock, so the store receives the writes in the order the queue
 * changed, and applies them in that order. The journal of an in-memory queue writes nothing.
 */
final class QueueJournal {

    static final String KIND = "queue";
    static final String ITEM_KIND_PREFIX = "queue-item/";
    static final String GONE_KIND_PREFIX = "queue-gone/";
    static final CompletableFuture<Void> STORED = CompletableFuture.completedFuture(null);
    /** The journal of every queue that is not durable. */
    static final QueueJournal NONE = new QueueJournal(StateStore.none(), "", "");

    /** A segment holds at most this many items... */
    static final int SEGMENT_ITEMS = 1_000;
    /** ...and about this many bytes (at least one item), so one row stays small for the store. */
    static final long SEGMENT_BYTES = 1 << 20;

    private static final Logger LOG = Logger.getLogger(QueueJournal.class.getName());

    /** A stored segment: how many items it has, how many are still held, and which have left. */
    static final class Segment {
        final int count;
        int live;
        final BitSet gone;
        boolean goneStored;

        Segment(int count, BitSet gone) {
            this.count = count;
            this.gone = gone;
            this.live = count - gone.cardinality();
            this.goneStored = !gone.isEmpty();
        }
    }

    private final StateStore store;
    private final String definitionKey;
    private final String id;
    // Guarded by the queue's lock.
    private final TreeMap<Long, Segment> segments = new TreeMap<>();

    private QueueJournal(StateStore store, String definitionKey, String id) {
        this.store = store;
        this.definitionKey = definitionKey;
        this.id = id;
    }

    /** The journal of the durable queue {@code id}, the registry's {@code seq}-th. */
    static QueueJournal durable(StateStore store, long seq, String id) {
        return new QueueJournal(store, key(seq), id);
    }

    static String key(long seq) {
        return String.format("%019d", seq);
    }

    static String itemKind(String id) {
        return ITEM_KIND_PREFIX + id;
    }

    static String goneKind(String id) {
        return GONE_KIND_PREFIX + id;
    }

    boolean durable() {
        return this != NONE;
    }

    /** The segments a restart found, so later removals know where their items are. */
    void restored(Map<Long, Segment> stored) {
        segments.putAll(stored);
    }

    /** Keeps the queue's definition; the future completes once it is committed. */
    CompletableFuture<Void> define(QueueRecords.Definition d) {
        if (!durable()) {
            return STORED;
        }
        return store.put(KIND, definitionKey, QueueRecords.encode(d));
    }

    /**
     * Keeps items that entered the queue together (consecutive sequences); the future completes once
     * they are committed.
     */
    CompletableFuture<Void> added(List<QueueEntry> entries) {
        if (!durable() || entries.isEmpty()) {
            return STORED;
        }
        List<StoreWrite> writes = new ArrayList<>(1);
        int from = 0;
        while (from < entries.size()) {
            int to = from;
            long size = 0;
            while (to < entries.size() && to - from < SEGMENT_ITEMS
                    && (to == from || size + entries.get(to).item().cost() <= SEGMENT_BYTES)) {
                size += entries.get(to).item().cost();
                to++;
            }
            List<QueueEntry> segment = entries.subList(from, to);
            long first = segment.getFirst().seq();
            segments.put(first, new Segment(segment.size(), new BitSet()));
            writes.add(new StoreWrite.Put(itemKind(id), key(first), QueueRecords.encodeSegment(segment)));
            from = to;
        }
        return store.stage(writes); // committed by commit(), once the queue's lock is released
    }

    /**
     * Commits the staged writes on this thread (unless another is committing): called once the
     * queue's lock is released, after items were added, so a put is answered from the thread that
     * made it.
     */
    void commit() {
        if (durable()) {
            store.commitStaged();
        }
    }

    /**
     * Forgets items that left for good, and keeps the definition {@code changed} with them. Nobody
     * waits for this: the store applies it after the writes that put the items, and a crash before it
     * is committed gives the items back once more (at-least-once).
     */
    void removed(List<QueueEntry> entries, Optional<QueueRecords.Definition> changed) {
        if (!durable() || (entries.isEmpty() && changed.isEmpty())) {
            return;
        }
        TreeSet<Long> touched = new TreeSet<>();
        for (QueueEntry e : entries) {
            Map.Entry<Long, Segment> s = segments.floorEntry(e.seq());
            if (s == null || e.seq() - s.getKey() >= s.getValue().count) {
                continue; // not stored (its segment's write failed): nothing to forget
            }
            Segment seg = s.getValue();
            int index = (int) (e.seq() - s.getKey());
            if (!seg.gone.get(index)) {
                seg.gone.set(index);
                seg.live--;
                touched.add(s.getKey());
            }
        }
        List<StoreWrite> writes = new ArrayList<>(touched.size() + 1);
        for (long first : touched) {
            Segment seg = segments.get(first);
            if (seg.live == 0) {
                segments.remove(first);
                writes.add(new StoreWrite.Delete(itemKind(id), key(first)));
                if (seg.goneStored) {
                    writes.add(new StoreWrite.Delete(goneKind(id), key(first)));
                }
            } else {
                seg.goneStored = true;
                writes.add(new StoreWrite.Put(goneKind(id), key(first), seg.gone.toByteArray()));
            }
        }
        changed.ifPresent(d -> writes.add(new StoreWrite.Put(KIND, definitionKey, QueueRecords.encode(d))));
        if (writes.isEmpty()) {
            return;
        }
        // Staged: committed with the next commit, or within a few milliseconds.
        store.stage(writes).exceptionally(e -> {
            LOG.warning("the state store did not keep the removal of " + entries.size() + " items from queue "
                    + id + " (a restart may give them back): " + e.getMessage());
            return null;
        });
    }

    /** Forgets the queue and its items, in one transaction. */
    void deleted() {
        if (!durable()) {
            return;
        }
        segments.clear();
        store.write(List.of(new StoreWrite.Delete(KIND, definitionKey), new StoreWrite.DeleteKind(itemKind(id)),
                new StoreWrite.DeleteKind(goneKind(id)))).exceptionally(e -> {
                    LOG.warning("the state store did not keep the deletion of queue " + id + ": " + e.getMessage());
                    return null;
                });
    }

    /** The error a call gets when the store could not keep what it wrote. */
    static ForkdException storeFailed(Throwable e, String what) {
        return ForkdException.Unavailable.storeDidNotKeep(what, e);
    }
}
