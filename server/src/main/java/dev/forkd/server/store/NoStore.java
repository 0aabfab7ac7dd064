package dev.forkd.server.store;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Keeps nothing: every write completes at once, every load is empty. */
final class NoStore implements StateStore {

    static final NoStore INSTANCE = new NoStore();
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private NoStore() {
    }

    @Override
    public boolean keeps() {
        return false;
    }

    @Override
    public CompletableFuture<Void> write(List<StoreWrite> writes) {
        return DONE;
    }

    @Override
    public List<StoreRow> load(String kind) {
        return List.of();
    }

    @Override
    public List<String> kinds(String prefix) {
        return List.of();
    }

    @Override
    public void close() {
    }
}
