package dev.forkd.server.queue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.store.IdBlocks;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.regex.Pattern;

/** The server's queues by id and name, within the configured limits. */
public final class QueueRegistry {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    private static final Pattern ID = Pattern.compile("q-[0-9]+");

    private final QueueLimits limits;
    private final ScheduledExecutorService timers;
    private final MemoryBudget memory;
    private final dev.forkd.server.events.ServerEvents events;
    private final TreeMap<Long, ItemQueue> bySeq = new TreeMap<>();
    private final Map<String, Long> seqById = new HashMap<>();
    private final Map<String, Long> seqByName = new HashMap<>();
    private final StateStore store;
    /** Queue numbers, never given twice across restarts (in-memory queues are not kept). */
    private final IdBlocks ids;

    public QueueRegistry(QueueLimits limits, ScheduledExecutorService timers) {
        this(limits, timers, MemoryBudget.unlimited());
    }

    /** Queues whose items are charged to the server's {@code memory} budget. */
    public QueueRegistry(QueueLimits limits, ScheduledExecutorService timers, MemoryBudget memory) {
        this(limits, timers, memory, dev.forkd.server.events.ServerEvents.NONE);
    }

    /** Queues that tell {@code events} when they close. */
    public QueueRegistry(QueueLimits limits, ScheduledExecutorService timers, MemoryBudget memory,
            dev.forkd.server.events.ServerEvents events) {
        this(limits, timers, memory, events, StateStore.none());
    }

    /**
     * Queues whose durable ones are kept in {@code store}: those it holds are loaded now, with their
     * items, before anyone can call.
     *
     * @throws dev.forkd.server.store.StoreException if the store cannot be read
     * @throws ForkdException.ResourceExhausted if the memory budget cannot hold the stored items
     */
    public QueueRegistry(QueueLimits limits, ScheduledExecutorService timers, MemoryBudget memory,
            dev.forkd.server.events.ServerEvents events, StateStore store) {
        this.events = events;
        this.limits = limits;
        this.timers = timers;
        this.memory = memory;
        this.store = store;
        this.ids = new IdBlocks(store, "queue");
        if (store.keeps()) {
            for (QueueRecords.StoredQueue stored : QueueRecords.load(store)) {
                restore(stored);
            }
        }
    }

    private void restore(QueueRecords.StoredQueue stored) {
        QueueRecords.Definition d = stored.definition();
        QueueJournal journal = QueueJournal.durable(store, stored.seq(), d.id());
        journal.restored(stored.segments());
        ItemQueue q = new ItemQueue(d.id(), d.name(), d.maxsize(), limits, timers, memory, events, journal);
        q.restore(stored.items(), stored.nextSeq(), d.undone(), d.closed());
        bySeq.put(stored.seq(), q);
        seqById.put(d.id(), stored.seq());
        d.name().ifPresent(n -> seqByName.put(n, stored.seq()));
        ids.taken(stored.seq());
    }

    public QueueLimits limits() {
        return limits;
    }

    /**
     * A created queue, or the one that had the name already (with {@code ifNotExists}); {@code stored}
     * completes once a durable queue's definition is committed (at once otherwise).
     */
    public record Created(ItemQueue queue, boolean created, CompletableFuture<Void> stored) {
        Created(ItemQueue queue, boolean created) {
            this(queue, created, QueueJournal.STORED);
        }
    }

    /** An in-memory queue. */
    public Created create(Optional<String> name, long maxsize, boolean ifNotExists) {
        return create(name, maxsize, ifNotExists, false);
    }

    /**
     * A queue; a {@code durable} one keeps its items in the state store.
     *
     * @throws ForkdException.InvalidArgument for {@code durable} on a server that keeps no state, or
     *     when {@code ifNotExists} finds a queue of that name that differs in durability
     */
    public synchronized Created create(Optional<String> name, long maxsize, boolean ifNotExists, boolean durable) {
        if (durable && !store.keeps()) {
            throw new ForkdException.InvalidArgument("durable", "needs the state store, and this server keeps no"
                    + " state (it runs with forkd serve --state-dir none)");
        }
        if (maxsize < 0) {
            throw new ForkdException.InvalidArgument("maxsize", "must not be negative (0 means the server's default, "
                    + limits.defaultMaxsize() + ")");
        }
        if (maxsize > limits.maxMaxsize()) {
            throw new ForkdException.InvalidArgument("maxsize", "must be at most " + limits.maxMaxsize()
                    + " (the server's limit)");
        }
        if (name.isPresent()) {
            String n = name.get();
            if (!NAME.matcher(n).matches()) {
                throw new ForkdException.InvalidArgument("name",
                        "must be 1-128 letters, digits, '.', '_' or '-'");
            }
            if (ID.matcher(n).matches()) {
                throw new ForkdException.InvalidArgument("name", "must not look like a queue id (q-<number>)");
            }
            Long existing = seqByName.get(n);
            if (existing != null) {
                if (ifNotExists) {
                    ItemQueue found = bySeq.get(existing);
                    if (found.durable() != durable) {
                        throw new ForkdException.InvalidArgument("durable", "queue \"" + n + "\" exists and is "
                                + (found.durable() ? "durable" : "not durable") + "; delete it to make it "
                                + (durable ? "durable" : "in-memory"));
                    }
                    return new Created(found, false);
                }
                throw new ForkdException.AlreadyExists("queue", n);
            }
        }
        if (bySeq.size() >= limits.maxQueues()) {
            throw new ForkdException.ResourceExhausted("TOO_MANY_QUEUES", "there are already " + bySeq.size()
                    + " queues (the server's limit is " + limits.maxQueues() + "); delete some first");
        }
        long s;
        try {
            s = ids.next();
        } catch (StoreException e) {
            throw QueueJournal.storeFailed(e, "the new queue's id");
        }
        String id = "q-" + s;
        QueueJournal journal = durable ? QueueJournal.durable(store, s, id) : QueueJournal.NONE;
        ItemQueue q = new ItemQueue(id, name, maxsize == 0 ? limits.defaultMaxsize() : maxsize, limits, timers, memory,
                events, journal);
        CompletableFuture<Void> stored = journal.define(q.definition());
        if (stored.isCompletedExceptionally()) {
            // Refused at once (the store is closed or far behind): no queue, as if never asked.
            ids.giveBack(s);
            throw QueueJournal.storeFailed(stored.exceptionNow(), "the new queue");
        }
        bySeq.put(s, q);
        seqById.put(id, s);
        name.ifPresent(n -> seqByName.put(n, s));
        return new Created(q, true, stored);
    }

    /** The error of a call whose change the store did not keep. */
    public static ForkdException storeFailed(Throwable e, String what) {
        return QueueJournal.storeFailed(e, what);
    }

    /** By id or name. */
    public synchronized ItemQueue get(String idOrName) {
        if (idOrName.isEmpty()) {
            throw new ForkdException.InvalidArgument("name", "is required (a queue id or name)");
        }
        Long s = seqById.get(idOrName);
        if (s == null) {
            s = seqByName.get(idOrName);
        }
        if (s == null) {
            throw new ForkdException.NotFound("queue", idOrName);
        }
        return bySeq.get(s);
    }

    /** Up to {@code limit} queues created after the one with sequence {@code after}. */
    public synchronized List<ItemQueue> list(long after, int limit) {
        return new ArrayList<>(bySeq.tailMap(after, false).values()).subList(0,
                Math.min(limit, bySeq.tailMap(after, false).size()));
    }

    public synchronized long seqOf(ItemQueue q) {
        return seqById.get(q.id());
    }

    /** Deletes by id or name; returns the id and how many items it dropped. */
    public record Deleted(String id, long droppedItems) {}

    public Deleted delete(String idOrName) {
        ItemQueue q;
        synchronized (this) {
            q = get(idOrName);
            long s = seqById.remove(q.id());
            bySeq.remove(s);
            q.name().ifPresent(seqByName::remove);
        }
        return new Deleted(q.id(), q.delete());
    }

    /** Session-end hook: consumers of the session give back what they have not acked. */
    public int releaseSession(String session) {
        List<ItemQueue> all;
        synchronized (this) {
            all = List.copyOf(bySeq.values());
        }
        int released = 0;
        for (ItemQueue q : all) {
            released += q.releaseSession(session);
        }
        return released;
    }

    public synchronized int count() {
        return bySeq.size();
    }
}
