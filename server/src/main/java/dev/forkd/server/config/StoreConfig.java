package dev.forkd.server.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the server keeps its state across restarts (README "Restarts and durability").
 *
 * @param dir the state directory ({@code --state-dir}); empty: nothing is kept, as before the store
 * @param fresh discard what the last server kept, and say what ({@code --fresh})
 */
public record StoreConfig(Optional<Path> dir, boolean fresh) {

    /** Nothing kept: tests' in-process servers, and {@code --state-dir none}. */
    public static final StoreConfig OFF = new StoreConfig(Optional.empty(), false);

    public StoreConfig {
        if (fresh && dir.isEmpty()) {
            throw new IllegalArgumentException("--fresh discards a state store; there is none (--state-dir none)");
        }
    }

    public static StoreConfig in(Path dir, boolean fresh) {
        return new StoreConfig(Optional.of(dir), fresh);
    }
}
