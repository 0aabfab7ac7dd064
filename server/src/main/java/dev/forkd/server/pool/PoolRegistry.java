package dev.forkd.server.pool;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.process.ProcessTable;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** The supervisor's pools, by id and name. Plain Java: the gRPC adapter calls it. */
public final class PoolRegistry {

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
    private final AtomicLong seq = new AtomicLong();
    private final dev.forkd.server.events.ServerEvents events;

    private final MemoryBudget memory;

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
        String id = "pool-" + seq.incrementAndGet();
        if (spec.name().isPresent() && names.putIfAbsent(spec.name().get(), id) != null) {
            throw new ForkdException.AlreadyExists("pool", spec.name().get());
        }
        Pool pool = new Pool(id, spec, table, timers, executor, clock, memory, events);
        pools.put(id, pool);
        pool.start(result -> {
            if (result.isPresent()) {
                pool.terminate();
                forget(pool);
            }
            onReady.accept(result);
        });
        return pool;
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
