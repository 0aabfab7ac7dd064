package dev.forkd.server.memory;

import dev.forkd.server.error.ForkdException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes the whole server may hold for its clients: output kept, queue items (waiting, queued
 * and in flight), pipe buffers, shared state and stdin on its way to a child. Each of those has a
 * cap of its own, but hundreds of them at their caps exceed any heap; this is the bound on their sum,
 * set by {@code forkd serve --memory-budget}.
 *
 * <p>Holders reserve before they keep bytes and release when they let go. A reservation that does
 * not fit is refused and changes nothing: a request is refused with {@link #reserve} (RESOURCE_EXHAUSTED,
 * reason {@value #REASON}), output drops its oldest bytes instead. Lock-free: one counter.
 */
public final class MemoryBudget {

    /** The ErrorInfo reason of a call refused because the budget is full. */
    public static final String REASON = "MEMORY_BUDGET_EXHAUSTED";
    /** The flag that sets the budget, named in every refusal. */
    public static final String FLAG = "--memory-budget";

    private final long limit;
    private final AtomicLong used = new AtomicLong();

    public MemoryBudget(long limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("a memory budget must be at least 1 byte, got " + limit);
        }
        this.limit = limit;
    }

    /** A budget that never refuses: for cores tested on their own caps only. */
    public static MemoryBudget unlimited() {
        return new MemoryBudget(Long.MAX_VALUE);
    }

    public long limit() {
        return limit;
    }

    public long used() {
        return used.get();
    }

    public long available() {
        return Math.max(0, limit - used.get());
    }

    /** Reserves {@code bytes} if they fit; false (and nothing reserved) if not. */
    public boolean tryReserve(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative reservation " + bytes);
        }
        if (bytes == 0) {
            return true;
        }
        while (true) {
            long now = used.get();
            if (bytes > limit - now) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /**
     * Reserves {@code bytes} for {@code what} (in the user's words, e.g. "2 items for queue \"jobs\""),
     * or refuses.
     *
     * @throws ForkdException.ResourceExhausted naming the budget and the flag that sets it
     */
    public void reserve(long bytes, String what) {
        if (!tryReserve(bytes)) {
            throw exhausted(bytes, what);
        }
    }

    /** The refusal of {@code bytes} for {@code what}. */
    public ForkdException.ResourceExhausted exhausted(long bytes, String what) {
        long now = used.get();
        return new ForkdException.ResourceExhausted(REASON, "the server's memory budget is full: " + what
                + " needs " + bytes + " bytes, " + Math.max(0, limit - now) + " of " + limit
                + " bytes are free (set by forkd serve " + FLAG + "); take queue items, delete ended processes,"
                + " queues or shared objects, or raise the budget",
                Map.of("budget_bytes", Long.toString(limit), "used_bytes", Long.toString(now),
                        "requested_bytes", Long.toString(bytes), "flag", FLAG));
    }

    /** Gives back bytes reserved earlier. */
    public void release(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative release " + bytes);
        }
        if (bytes > 0) {
            used.addAndGet(-bytes);
        }
    }

    @Override
    public String toString() {
        return "memory budget " + used.get() + "/" + limit + " bytes";
    }
}
