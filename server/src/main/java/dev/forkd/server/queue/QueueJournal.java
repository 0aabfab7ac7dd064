package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreWrite;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.logging.Logger;

/**
 * What a durable queue writes to the {@link StateStore}: its definition under kind {@value #KIND}
 * (key: the registry's sequence, zero-padded, so queues load in creation order) and each item it holds
 * under kind {@code queue-item/<id>} (key: the item's sequence, zero-padded, so items load in order).
 * An item's row is written when it enters the queue and removed when it leaves for good (taken, or
 * acked); a delivery not yet acked keeps its row, so a restart gives it back (at-least-once).
 *
 * <p>The queue calls this under its lock, so the store receives the writes in the order the queue
 * changed (the store applies them in that order). A journal of an in-memory queue writes nothing.
 */
final class QueueJournal {

    static final String KIND = "queue";
    static final String ITEM_KIND_PREFIX = "queue-item/";
    static final CompletableFuture<Void> STORED = CompletableFuture.completedFuture(null);
    /** The journal of every queue that is not durable. */
    static final QueueJournal NONE = new QueueJournal(StateStore.none(), "", "");

    private static final Logger LOG = Logger.getLogger(QueueJournal.class.getName());

    private final StateStore store;
    private final String definitionKey;
    private final String itemKind;

    private QueueJournal(StateStore store, String definitionKey, String itemKind) {
        this.store = store;
        this.definitionKey = definitionKey;
        this.itemKind = itemKind;
    }

    /** The journal of the durable queue {@code id}, the registry's {@code seq}-th. */
    static QueueJournal durable(StateStore store, long seq, String id) {
        return new QueueJournal(store, key(seq), itemKind(id));
    }

    static String key(long seq) {
        return String.format("%019d", seq);
    }

    static String itemKind(String id) {
        return ITEM_KIND_PREFIX + id;
    }

    boolean durable() {
        return this != NONE;
    }

    /** Keeps the queue's definition; the future completes once it is committed. */
    CompletableFuture<Void> define(QueueRecords.Definition d) {
        if (!durable()) {
            return STORED;
        }
        return store.put(KIND, definitionKey, QueueRecords.encode(d));
    }

    /** Keeps items that entered the queue; the future completes once they are committed. */
    CompletableFuture<Void> added(List<QueueEntry> entries) {
        if (!durable() || entries.isEmpty()) {
            return STORED;
        }
        List<StoreWrite> writes = new ArrayList<>(entries.size());
        for (QueueEntry e : entries) {
            writes.add(new StoreWrite.Put(itemKind, key(e.seq()), QueueRecords.encode(e.item())));
        }
        return store.write(writes);
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
        List<StoreWrite> writes = new ArrayList<>(entries.size() + 1);
        for (QueueEntry e : entries) {
            writes.add(new StoreWrite.Delete(itemKind, key(e.seq())));
        }
        changed.ifPresent(d -> writes.add(new StoreWrite.Put(KIND, definitionKey, QueueRecords.encode(d))));
        store.write(writes).exceptionally(e -> {
            LOG.warning("the state store did not keep the removal of " + entries.size() + " items from "
                    + itemKind + " (a restart may give them back): " + e.getMessage());
            return null;
        });
    }

    /** Forgets the queue and its items, in one transaction. */
    void deleted() {
        if (!durable()) {
            return;
        }
        store.write(List.of(new StoreWrite.Delete(KIND, definitionKey), new StoreWrite.DeleteKind(itemKind)))
                .exceptionally(e -> {
                    LOG.warning("the state store did not keep the deletion of " + itemKind + ": " + e.getMessage());
                    return null;
                });
    }

    /** The error a call gets when the store could not keep what it wrote. */
    static ForkdException storeFailed(Throwable e, String what) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return new ForkdException.Unavailable("STORE_WRITE_FAILED", "the state store did not keep " + what
                + ": " + cause.getMessage());
    }
}
