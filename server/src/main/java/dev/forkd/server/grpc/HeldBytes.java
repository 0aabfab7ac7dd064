package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import java.util.Optional;

/**
 * What one stream holds of the server's {@link MemoryBudget}: held piece by piece, given back piece
 * by piece, and all at once when the stream ends (after which nothing more is given back twice).
 * Guarded by its stream's monitor.
 */
final class HeldBytes {

    private final MemoryBudget memory;
    private long held;
    private boolean released;

    HeldBytes(MemoryBudget memory) {
        this.memory = memory;
    }

    /** Holds {@code bytes}, or throws MEMORY_BUDGET_EXHAUSTED naming {@code what}. */
    void hold(long bytes, String what) {
        memory.reserve(bytes, what);
        held += bytes;
    }

    /** Holds {@code bytes}, or answers why not (MEMORY_BUDGET_EXHAUSTED naming {@code what}). */
    Optional<ForkdException> tryHold(long bytes, String what) {
        if (!memory.tryReserve(bytes)) {
            return Optional.of(memory.exhausted(bytes, what));
        }
        held += bytes;
        return Optional.empty();
    }

    /** Gives back part of what it holds; nothing once {@link #releaseAll} has given back everything. */
    void giveBack(long bytes) {
        if (!released) {
            memory.release(bytes);
            held -= bytes;
        }
    }

    /** Gives back everything it holds; answers false if that was done already. */
    boolean releaseAll() {
        if (released) {
            return false;
        }
        released = true;
        memory.release(held);
        held = 0;
        return true;
    }

    boolean released() {
        return released;
    }
}
