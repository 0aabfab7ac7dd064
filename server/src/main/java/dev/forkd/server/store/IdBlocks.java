package dev.forkd.server.store;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The numbers of one kind of id ({@code q-N}, {@code pipe-N}, {@code pool-N}), none of which a later
 * supervisor on the same store gives again. Without this, a resource that was not kept (an in-memory
 * queue, a pipe) or was deleted would leave its id free after a restart, and a client still holding it
 * would reach whatever the next supervisor named so.
 *
 * <p>Numbers are reserved in blocks of {@link #BLOCK} (row {@value #KIND}/key): a create waits for the
 * store only when it opens a new block, and the next supervisor starts after the last reserved block.
 * Ids thus jump by up to a block across a restart. (Process ids stay dense instead: every process
 * record is kept before its id is answered, the store keeps the newest deleted one's number, and the
 * ids a returning agent reports, kept or not, count as given.)
 *
 * <p>Without a store that keeps, numbers simply count from 1. Not thread-safe: the owning registry
 * calls it under its own lock.
 */
public final class IdBlocks {

    /** The kind of the reservation rows, one per kind of id. */
    public static final String KIND = "id-block";
    /** Numbers reserved per store write. */
    public static final long BLOCK = 100;
    private static final long WRITE_WAIT_SECONDS = 30;

    private final StateStore store;
    private final String key;
    private long last;
    private long reservedUpTo;

    /** Loads the last reservation of {@code key} (e.g. "queue") from {@code store}. */
    public IdBlocks(StateStore store, String key) {
        this.store = store;
        this.key = key;
        if (store.keeps()) {
            for (StoreRow row : store.load(KIND)) {
                if (row.key().equals(key)) {
                    reservedUpTo = row.longValue("the reserved " + key + " ids");
                }
            }
        }
        last = reservedUpTo;
    }

    /** Numbers up to {@code n} are taken already (by a restored resource). */
    public void taken(long n) {
        last = Math.max(last, n);
    }

    /**
     * The next number. Opening a new block waits until its reservation is committed.
     *
     * @throws StoreException if the store did not keep the reservation (nothing was taken)
     */
    public long next() {
        long n = last + 1;
        if (store.keeps() && n > reservedUpTo) {
            long upTo = n + BLOCK - 1;
            try {
                store.write(List.of(StoreWrite.Put.ofLong(KIND, key, upTo)))
                        .get(WRITE_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException("interrupted while reserving " + key + " ids", e);
            } catch (ExecutionException e) {
                throw new StoreException("cannot reserve " + key + " ids: " + e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new StoreException("the store did not reserve " + key + " ids within " + WRITE_WAIT_SECONDS + " s", e);
            }
            reservedUpTo = upTo;
        }
        last = n;
        return n;
    }

    /** Gives back {@code n}, the last number taken, for a create refused after it: the next one gets it. */
    public void giveBack(long n) {
        if (last == n) {
            last = n - 1;
        }
    }
}
