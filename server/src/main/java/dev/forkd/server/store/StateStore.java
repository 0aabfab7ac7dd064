package dev.forkd.server.store;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where the server keeps what must survive a restart (README "Restarts and durability"): rows of
 * bytes, each under a kind (one per sort of record: {@code "process"}, {@code "queue-item/q-7"}...)
 * and a key unique within it. Each core owns its kinds and how its records are encoded.
 *
 * <p>Writes are grouped: the writes that arrive together are committed in one transaction, in the
 * order they were made, so persisting costs little. A write's future completes once it is committed
 * (it then survives a crash of the server, not a power cut: WAL with {@code synchronous=NORMAL}), or
 * fails with {@link StoreException}. A core answers a client that must not lose its data (a durable
 * queue's put, a shared counter's add) only when that future completes.
 *
 * <p>Reads are for start-up: a core loads its kinds once, before the server listens.
 */
public interface StateStore extends AutoCloseable {

    /** A store that keeps nothing: the server as it was without one (tests, {@code --state-dir none}). */
    static StateStore none() {
        return NoStore.INSTANCE;
    }

    /** Whether writes are kept at all; a core may skip encoding its records when not. */
    boolean keeps();

    /** Applies {@code writes} in order, in the same transaction as whatever else arrives with them. */
    CompletableFuture<Void> write(List<StoreWrite> writes);

    /**
     * {@link #write}, without starting a commit: the writes wait, in order with every other write,
     * for the next commit, which the caller starts with {@link #commitStaged} once it holds no lock,
     * or which comes on its own within a few milliseconds (so a removal nobody waits for costs no
     * commit of its own). Same guarantees as {@link #write} once the future completes.
     */
    default CompletableFuture<Void> stage(List<StoreWrite> writes) {
        return write(writes);
    }

    /**
     * Commits what waits for a commit on the calling thread, unless another thread is committing (it
     * is then committed next, by the store). The futures of what it commits complete on this thread,
     * so the caller must hold no lock their callbacks could need. Never waits for another commit.
     */
    default void commitStaged() {
    }

    default CompletableFuture<Void> put(String kind, String key, byte[] value) {
        return write(List.of(new StoreWrite.Put(kind, key, value)));
    }

    default CompletableFuture<Void> delete(String kind, String key) {
        return write(List.of(new StoreWrite.Delete(kind, key)));
    }

    /** Completes once every write made before this call is committed (writes commit in order). */
    default CompletableFuture<Void> committedSoFar() {
        return write(List.of());
    }

    /** Removes every row of {@code kind} (a deleted queue's items). */
    default CompletableFuture<Void> deleteKind(String kind) {
        return write(List.of(new StoreWrite.DeleteKind(kind)));
    }

    /** Every row of {@code kind}, in key order. */
    List<StoreRow> load(String kind);

    /** The kinds that start with {@code prefix} and have rows, in order (every durable queue's item kind). */
    List<String> kinds(String prefix);

    /** Waits for the writes made so far to be committed, then closes. Later writes fail. */
    @Override
    void close();
}
