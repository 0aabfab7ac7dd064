package dev.forkd.server.store;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A real store whose commits are reported only once {@code gate} completes: the writes happen, but
 * whoever waits for them waits for the test. For tests of "answered only once committed". Id
 * reservations ({@link IdBlocks}) pass ungated: they are not what such tests hold back.
 */
public record GatedStore(StateStore real, CompletableFuture<Void> gate) implements StateStore {

    @Override
    public boolean keeps() {
        return true;
    }

    @Override
    public CompletableFuture<Void> write(List<StoreWrite> writes) {
        if (!writes.isEmpty() && writes.stream().allMatch(w -> w.kind().equals(IdBlocks.KIND))) {
            return real.write(writes);
        }
        return real.write(writes).thenCombine(gate, (a, b) -> null);
    }

    @Override
    public List<StoreRow> load(String kind) {
        return real.load(kind);
    }

    @Override
    public List<String> kinds(String prefix) {
        return real.kinds(prefix);
    }

    @Override
    public void close() {
    }
}
