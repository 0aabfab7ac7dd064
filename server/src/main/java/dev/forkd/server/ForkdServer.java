package dev.forkd.server;

import dev.forkd.address.ListenAddress;
import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.metrics.MetricsSettings;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.programs.DeclaredPrograms;
import io.grpc.Server;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * The supervisor: the gRPC server, its agents and its state, started and stopped as one. The services
 * are {@link ForkdServices}; what only a real server has is put together by {@link ServerStart} (its
 * listeners and event loops, the agent processes it launches) and given back by {@link ServerStop}
 * in the order in which all of it stops.
 */
public final class ForkdServer implements AutoCloseable {

    private final Listeners.Started listening;
    private final ForkdServices services;
    private final ServerStop stop;

    private ForkdServer(ServerStart.Serving serving) {
        this.listening = serving.listening();
        this.services = serving.services();
        this.stop = serving.stop();
    }

    /**
     * Starts listening and launches the agents. Returns once the server accepts calls and every
     * agent has registered.
     *
     * @throws IOException if it cannot listen (address in use, a live server already there) or
     *     the agents do not come up
     */
    public static ForkdServer start(ServerConfig config) throws IOException {
        return start(config, AgentLiveness.Settings.DEFAULT);
    }

    /** {@link #start(ServerConfig)} with the agents' heartbeat and the silence that declares one lost. */
    public static ForkdServer start(ServerConfig config, AgentLiveness.Settings liveness) throws IOException {
        return start(config, liveness, MetricsSettings.NONE);
    }

    /** {@link #start(ServerConfig)} with metrics served as {@code metrics} says (README "Metrics and events"). */
    public static ForkdServer start(ServerConfig config, MetricsSettings metrics) throws IOException {
        return start(config, AgentLiveness.Settings.DEFAULT, metrics);
    }

    /** {@link #start(ServerConfig)} with the agents' heartbeat settings and metrics served as {@code metrics} says. */
    public static ForkdServer start(ServerConfig config, AgentLiveness.Settings liveness, MetricsSettings metrics)
            throws IOException {
        return start(config, liveness, metrics, RestartSettings.DEFAULT);
    }

    /**
     * {@link #start(ServerConfig, AgentLiveness.Settings, MetricsSettings)}, with agents and children
     * living across restarts as {@code restart} says. The agents of a previous supervisor on the same
     * state directory that still run are adopted, and the processes they report are running again.
     */
    public static ForkdServer start(ServerConfig config, AgentLiveness.Settings liveness, MetricsSettings metrics,
            RestartSettings restart) throws IOException {
        return new ForkdServer(ServerStart.start(config, liveness, metrics, restart));
    }

    /** Where it listens (the TCP port is the real one when 0 was asked). */
    public ListenAddress address() {
        return listening.address();
    }

    /** Where the health-only listener is, if one was asked for (the real port when 0 was asked). */
    public Optional<ListenAddress.Tcp> healthAddress() {
        return listening.healthAddress();
    }

    /** Blocks until the server has stopped. */
    public void awaitTermination() throws InterruptedException {
        for (Server s : listening.all()) {
            s.awaitTermination();
        }
    }

    /**
     * Exits leaving the agents and their children running, for the next supervisor on the same state
     * directory to adopt ({@code --restart-keep}): no new calls, the agents' streams are cut (they
     * dial back for their orphan grace), what the cores wrote is committed, and nothing is killed.
     */
    public void closeLeavingChildren() {
        stop.stop(ServerLife.Stop.KEEP_CHILDREN);
    }

    /** Stops: no new calls, agents told to stop their children (SIGTERM, then SIGKILL), all reaped. */
    @Override
    public void close() {
        stop.stop(ServerLife.Stop.EVERYTHING);
    }

    /**
     * Waits, at most {@code limit}, until a stop begun on another thread (a client's Shutdown call)
     * has released everything: {@link #awaitTermination()} returns as soon as the listeners are
     * down, before the store is closed.
     */
    public boolean awaitStopped(Duration limit) throws InterruptedException {
        return stop.awaitStopped(limit);
    }

    /** The port Prometheus scrapes ({@code --metrics-listen}; the real one when 0 was asked), if any. */
    public Optional<Integer> metricsPort() {
        return services.observers().metricsPort();
    }

    /** The programs declared in the config file (none until {@code forkd serve --config} loads one). */
    public DeclaredPrograms programs() {
        return services.programs();
    }

    /** The process table, for status reporting. */
    public ProcessTable processes() {
        return services.processes();
    }
}
