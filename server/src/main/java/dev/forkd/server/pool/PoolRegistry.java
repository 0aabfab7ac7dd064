package dev.forkd.server.pool;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.store.IdBlocks;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import dev.forkd.server.store.StoreRow;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The supervisor's pools, by id and name. Plain Java: the gRPC adapter calls it.
 *
 * <p>Pools made by Create are kept in the state store (ephemeral ones, which end with their Map
 * stream, are not): their definitions, their ApplyAsync tasks not yet answered and their results
 * not yet forgotten. {@link #restore} brings them back at start-up with fresh workers.
 */
public final class PoolRegistry {

    private static final Logger LOG = Logger.getLogger(PoolRegistry.class.getName());

    /** Most workers one pool may have. */
    public static final int MAX_PROCESSES = 1024;

    private final ProcessTable table;
    private final ScheduledExecutorService timers;
    private final Executor executor;
    private final Clock clock;
    private final int maxPools;
    private final Map<String, Pool> pools = new ConcurrentHashMap<>();
    private final Map<String, String> names = new ConcurrentHashMap<>();
    /** Ephemeral pools by id, and the session whose Map stream made them. */
    private final Map<String, String> owners = new ConcurrentHashMap<>();
    /** Pool numbers, never given twice across restarts (deleted pools are not kept); guarded by itself. */
    private final IdBlocks ids;
    private final dev.forkd.server.events.ServerEvents events;

    private final MemoryBudget memory;
    private final StateStore store;

    /** Without a memory budget: for tests of other things. */
    public PoolRegistry(ProcessTable table, ScheduledExecutorService timers, Executor executor, Clock clock,
            int maxPools) {
        this(table, timers, executor, clock, maxPools, MemoryBudget.unlimited());
    }

    /** @param memory holds what pools keep for their clients: ApplyAsync inputs and uncollected results, Map streams' items and results */
    public PoolRegistry(ProcessTable table, ScheduledExecutorService timers, Executor executor, Clock clock,
            int maxPools, MemoryBudget memory) {
        this(table, timers, executor, clock, maxPools, memory, dev.forkd.server.events.ServerEvents.NONE);
    }

    /** Pools that also tell {@code events} how each task ended. */
    public PoolRegistry(ProcessTable table, ScheduledExecutorService timers, Executor executor, Clock clock,
            int maxPools, MemoryBudget memory, dev.forkd.server.events.ServerEvents events) {
        this(table, timers, executor, clock, maxPools, memory, events, StateStore.none());
    }

    /** Pools kept in {@code store}; call {@link #restore} once, before serving. */
    public PoolRegistry(ProcessTable table, ScheduledExecutorService timers, Executor executor, Clock clock,
            int maxPools, MemoryBudget memory, dev.forkd.server.events.ServerEvents events, StateStore store) {
        this.store = store;
        this.ids = new IdBlocks(store, "pool");
        this.memory = memory;
        this.events = events;
        this.table = table;
        this.timers = timers;
        this.executor = executor;
        this.clock = clock;
        this.maxPools = maxPools;
    }

    /**
     * Creates a pool and starts its workers; {@code onReady} hears once they are up (empty) or why
     * they could not start (the pool is then terminated and forgotten).
     */
    public Pool create(PoolSpec spec, Consumer<Optional<ForkdException>> onReady) {
        if (pools.size() >= maxPools) {
            throw new ForkdException.ResourceExhausted("POOL_TABLE_FULL", "there are " + pools.size()
                    + " pools (max " + maxPools + "); delete ended ones");
        }
        String id;
        synchronized (ids) {
            try {
                id = "pool-" + ids.next();
            } catch (StoreException e) {
                throw ForkdException.Unavailable.storeDidNotKeep("the new pool's id", e);
            }
        }
        if (spec.name().isPresent() && names.putIfAbsent(spec.name().get(), id) != null) {
            throw new ForkdException.AlreadyExists("pool", spec.name().get());
        }
        Pool pool = new Pool(id, spec, table, timers, executor, clock, memory, events, store, clock.instant());
        pools.put(id, pool);
        // Answered once its definition is kept too, so that an acknowledged pool survives a restart.
        CompletableFuture<Void> saved = pool.save();
        pool.start(result -> {
            if (result.isPresent()) {
                pool.terminate();
                forget(pool);
                onReady.accept(result);
                return;
            }
            saved.whenCompleteAsync((v, error) -> {
                if (error != null) {
                    pool.terminate();
                    forget(pool);
                    onReady.accept(Optional.of(new ForkdException.Unavailable("STATE_STORE_UNAVAILABLE",
                            "pool " + id + " could not be kept: " + error.getMessage())));
                } else {
                    onReady.accept(Optional.empty());
                }
            }, saved.isDone() ? Runnable::run : executor); // not on the store's writer thread
        });
        return pool;
    }

    /**
     * Brings back the pools the store kept, each with fresh workers: its tasks submitted and not
     * answered run again (at-least-once), its results not yet forgotten are there for GetResult.
     * Worker processes of the previous server that are still in the process table are killed:
     * they lost their pool's state (what they were given, where their answers go). Answers how many
     * pools came back. Called once, before the server listens.
     */
    public int restore() {
        if (!store.keeps()) {
            return 0;
        }
        int n = 0;
        for (StoreRow row : store.load(Pool.KIND)) {
            PoolCodec.PoolRecord rec = PoolCodec.pool(row.value());
            Pool pool = new Pool(rec.id(), rec.spec(), table, timers, executor, clock, memory, events, store,
                    rec.createdAt());
            pool.restore(rec.phase(), store.load(AsyncResults.taskKind(rec.id())),
                    store.load(AsyncResults.resultKind(rec.id())));
            pools.put(rec.id(), pool);
            rec.spec().name().ifPresent(name -> names.put(name, rec.id()));
            synchronized (ids) {
                ids.taken(seqOf(pool));
            }
            endOldWorkers(rec.id());
            if (pool.phase() != Pool.Phase.ENDED) {
                pool.start(result -> result.ifPresent(e -> {
                    // Kept, ended: its results stay for GetResult; its tasks failed as TERMINATED.
                    LOG.log(Level.WARNING, "pool " + rec.id() + " could not start again: " + e.getMessage());
                    pool.terminate();
                }));
            }
            n++;
        }
        // Rows of a pool whose definition is gone (a delete cut short): nobody can name them.
        for (String prefix : List.of("pool-task/", "pool-result/")) {
            for (String kind : store.kinds(prefix)) {
                if (!pools.containsKey(kind.substring(prefix.length()))) {
                    store.deleteKind(kind);
                }
            }
        }
        return n;
    }

    /** The server is stopping: pools keep what they kept, not what the stop does to them. */
    public void stopping() {
        pools.values().forEach(Pool::stopping);
    }

    private void endOldWorkers(String poolId) {
        List<ProcessSnapshot> old = table.list(p -> poolId.equals(p.spec().labels().get("forkd.pool")), 0,
                Integer.MAX_VALUE);
        for (ProcessSnapshot p : old) {
            try {
                table.signal(p.id(), new ProcessTable.SignalAction.Kill());
            } catch (ForkdException e) {
                // ended already
            }
            table.join(p.id(), Optional.empty(), (end, timedOut) -> {
                try {
                    table.delete(end.id());
                } catch (ForkdException e) {
                    // gone already
                }
            });
        }
    }

    public Pool find(String idOrName) {
        Pool p = pools.get(idOrName);
        if (p == null) {
            String id = names.get(idOrName);
            p = id == null ? null : pools.get(id);
        }
        if (p == null) {
            throw new ForkdException.NotFound("pool", idOrName);
        }
        return p;
    }

    /** Pools oldest first, after sequence number {@code after}, at most {@code limit + 1}. */
    public List<Pool> list(long after, int limit) {
        List<Pool> all = new ArrayList<>(pools.values());
        all.sort(Comparator.comparingLong(PoolRegistry::seqOf));
        List<Pool> out = new ArrayList<>();
        for (Pool p : all) {
            if (seqOf(p) > after) {
                out.add(p);
                if (out.size() > limit) {
                    break;
                }
            }
        }
        return out;
    }

    public static long seqOf(Pool p) {
        return Long.parseLong(p.id().substring("pool-".length()));
    }

    /** Forgets an ended pool; FAILED_PRECONDITION while it runs or finishes. */
    public void delete(String idOrName) {
        Pool p = find(idOrName);
        if (p.phase() != Pool.Phase.ENDED) {
            throw new ForkdException.FailedPrecondition("POOL_NOT_ENDED", "pool \"" + p.id()
                    + "\" has not ended (" + p.phase().name().toLowerCase() + "); close or terminate it and join first",
                    Map.of("id", p.id()));
        }
        forget(p);
    }

    /**
     * Ties an ephemeral pool to the session that made it: when that session ends (its client
     * died, or the child that called Map exited) the pool is discarded even if the stream lingers.
     */
    public void own(Pool p, String sessionId) {
        owners.put(p.id(), sessionId);
        if (!pools.containsKey(p.id())) {
            owners.remove(p.id());
        }
    }

    /** A session ended: discard the ephemeral pools it made; answers how many. */
    public int sessionEnded(String sessionId) {
        int n = 0;
        for (var e : List.copyOf(owners.entrySet())) {
            if (e.getValue().equals(sessionId) && owners.remove(e.getKey(), sessionId)) {
                Pool p = pools.get(e.getKey());
                if (p != null) {
                    discard(p);
                    n++;
                }
            }
        }
        return n;
    }

    /** Ends an ephemeral pool: terminate it and forget it once it has ended. */
    public void discard(Pool p) {
        p.terminate();
        p.join(Optional.empty(), (s, timedOut) -> forget(p));
    }

    /** The budget pools and their Map streams hold their items and results from. */
    public MemoryBudget memory() {
        return memory;
    }

    private void forget(Pool p) {
        p.forget();
        pools.remove(p.id(), p);
        owners.remove(p.id());
        p.spec().name().ifPresent(n -> names.remove(n, p.id()));
    }
}
