package dev.forkd.server;

import dev.forkd.server.config.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import java.io.IOException;

/** The supervisor: the gRPC server, its agents and its state, started and stopped as one. */
public final class ForkdServer implements AutoCloseable {

    private ForkdServer() {}

    /**
     * Starts listening and launches the agents. Returns once the server accepts calls.
     *
     * @throws IOException if it cannot listen (address in use, a live server already there)
     */
    public static ForkdServer start(ServerConfig config) throws IOException {
        throw new UnsupportedOperationException("being written");
    }

    /** Where it listens (the TCP port is the real one when 0 was asked). */
    public ListenAddress address() {
        throw new UnsupportedOperationException("being written");
    }

    /** Blocks until the server has stopped. */
    public void awaitTermination() throws InterruptedException {
        throw new UnsupportedOperationException("being written");
    }

    /** Stops: no new calls, agents told to stop their children (SIGTERM, then SIGKILL), all reaped. */
    @Override
    public void close() {
        throw new UnsupportedOperationException("being written");
    }
}
