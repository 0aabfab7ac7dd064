package dev.forkd.client;

import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import java.util.Map;
import java.util.Optional;

/**
 * The server a client dials, chosen as {@code --address}, else {@code FORKD_ADDRESS}, else the
 * default socket of {@link ForkdPaths}. Only the default may be started on demand.
 */
public record ServerTarget(ListenAddress address, ForkdPaths paths) {

    /**
     * @throws IllegalArgumentException if the given address does not parse
     */
    public static ServerTarget resolve(Optional<String> flag, Map<String, String> env) {
        ForkdPaths paths = ForkdPaths.fromEnvironment(env);
        Optional<String> given = flag.filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(env.get("FORKD_ADDRESS")).filter(s -> !s.isBlank()));
        ListenAddress address = given.map(ListenAddress::parse).orElseGet(paths::defaultAddress);
        return new ServerTarget(address, paths);
    }

    /** True when this is the default socket, the one a client may start a server for. */
    public boolean isDefault() {
        return address.equals(paths.defaultAddress());
    }
}
