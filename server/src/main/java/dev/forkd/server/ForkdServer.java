package dev.forkd.server;

import dev.forkd.posix.Posix;
import dev.forkd.posix.SpawnException;
import dev.forkd.server.agent.AgentLauncher;
import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.server.agent.AgentWatchdog;
import dev.forkd.server.agent.AgentLink;
import dev.forkd.server.agent.AgentRecords;
import dev.forkd.server.agent.AgentReturn;
import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.agent.v1.StoredAgent;
import java.util.List;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.PrivateFiles;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.TcpSecurity;
import dev.forkd.server.grpc.AuthInterceptor;
import dev.forkd.server.limits.ProcessCgroups;
import dev.forkd.server.metrics.MetricsEndpoint;
import dev.forkd.server.metrics.MetricsSettings;
import dev.forkd.server.process.ChildEnvironment;
import dev.forkd.server.programs.DeclaredPrograms;
import dev.forkd.server.process.OutputFiles;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.store.StateDirectory;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import io.grpc.Server;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * The supervisor: the gRPC server, its agents and its state, started and stopped as one. The services
 * are {@link ForkdServices}; this class adds what only a real server has: its listeners and event
 * loops, the agent processes it launches, and the order in which all of it stops.
 */
public final class ForkdServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ForkdServer.class.getName());
    private static final Duration AGENT_START_LIMIT = Duration.ofSeconds(90);

    private final ServerConfig config;
    private final Listeners.Started listening;
    private final ListenAddress address;
    private final AgentLauncher launcher;
    private final ForkdServices services;
    private final ScheduledExecutorService timers;
    private final ExecutorService streams;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Optional<StateDirectory> stateDir;
    private final StateStore store;
    private final OutputFiles outputs;
    private volatile boolean closed;
    /** Open until a stop has released everything. */
    private final CountDownLatch stopped = new CountDownLatch(1);

    private ForkdServer(ServerConfig config, Listeners.Started listening, ListenAddress address, AgentLauncher launcher,
            ForkdServices services, ScheduledExecutorService timers, ExecutorService streams, EventLoopGroup boss,
            EventLoopGroup workers, Optional<StateDirectory> stateDir, StateStore store, OutputFiles outputs) {
        this.config = config;
        this.listening = listening;
        this.address = address;
        this.launcher = launcher;
        this.services = services;
        this.timers = timers;
        this.streams = streams;
        this.boss = boss;
        this.workers = workers;
        this.stateDir = stateDir;
        this.store = store;
        this.outputs = outputs;
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
        metrics.listen().ifPresent(address -> MetricsEndpoint.check(address, config.tcpSecurity()));
        Posix posix = new Posix();
        Optional<String> clientToken = readToken(config.tokenFile());

        // Taken first: a second server on the same state directory stops here, before it touches anything.
        Optional<StateDirectory> stateDir = config.store().dir().isPresent()
                ? Optional.of(StateDirectory.take(config.store().dir().get())) : Optional.empty();
        StateStore store;
        try {
            store = stateDir.isPresent() ? stateDir.get().openStore(config.store().fresh(), LOG::warning)
                    : StateStore.none();
        } catch (StoreException e) {
            release(stateDir);
            throw new IOException(e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            release(stateDir);
            throw e;
        }
        AgentRecords agentRecords = new AgentRecords(store);
        String agentToken;
        List<StoredAgent> leftAgents;
        try {
            // The kept token, if any: the previous supervisor's agents dial back with it.
            agentToken = agentRecords.channelToken();
            leftAgents = agentRecords.alive();
        } catch (RuntimeException e) {
            release(stateDir, store);
            throw new IOException("cannot load the kept agents: " + e.getMessage()
                    + " (forkd serve --fresh starts empty, discarding them)", e);
        }
        var timers = new ScheduledThreadPoolExecutor(2, Thread.ofPlatform().name("forkd-timer-", 0).daemon().factory());
        timers.setRemoveOnCancelPolicy(true);
        ExecutorService streams = Executors.newFixedThreadPool(
                Math.max(2, Runtime.getRuntime().availableProcessors()),
                Thread.ofPlatform().name("forkd-stream-", 0).daemon().factory());
        // One cgroup per process with cgroup limits, under a parent named for this server; a fresh
        // start removes what an earlier server on this state directory left.
        ProcessCgroups cgroups = ProcessCgroups.host(config.store().dir());
        if (config.store().fresh()) {
            cgroups.removeAll();
        }
        ForkdServices services;
        // The processes' output files, made with the memory budget their writes in flight are charged to.
        AtomicReference<OutputFiles> outputs = new AtomicReference<>(OutputFiles.none());
        try {
            services = ForkdServices.assemble(ServiceSettings.of(config, liveness, metrics),
                    Clock.systemUTC(), timers, streams, ChildRunner.registeredAgents(pgid -> posix.kill(-pgid, 9)),
                    new AuthInterceptor(agentToken, clientToken), store, memory -> {
                        if (stateDir.isEmpty()) {
                            return outputs.get();
                        }
                        try {
                            outputs.set(OutputFiles.in(stateDir.get().path(), memory, System::currentTimeMillis));
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException("cannot make the output directory: " + e.getMessage(), e);
                        }
                        return outputs.get();
                    }, cgroups);
        } catch (RuntimeException e) {
            outputs.get().close();
            // A core could not load what the store kept (unreadable, or past --memory-budget): nothing
            // listens yet, so release everything and say why, as any other reason not to serve.
            timers.shutdownNow();
            streams.shutdownNow();
            release(stateDir, store);
            throw new IOException("cannot load the kept state: " + e.getMessage()
                    + " (forkd serve --fresh starts empty, discarding it)", e);
        }
        AgentRegistry agents = services.agents();
        ServerObservers observers = services.observers();
        // Before listening: an agent that dials back at once must find its secret expected.
        for (StoredAgent a : leftAgents) {
            services.agentCredentials().adopt(a.getAgentId(), a.getPid(), a.getSecretSha256().toByteArray());
        }

        EventLoopGroup boss = new EpollEventLoopGroup(1, Thread.ofPlatform().name("forkd-accept").daemon().factory());
        EventLoopGroup workers = new EpollEventLoopGroup(2, Thread.ofPlatform().name("forkd-io-", 0).daemon().factory());
        // Every handler answers or parks a callback and returns; none blocks (DESIGN §8: no thread
        // per waiter), and streams drain on `streams`. So calls run on the event loop that read
        // them: a hand-off to a pool thread per call cost more than most calls' work.
        Listeners.Started listening;
        try {
            listening = Listeners.start(config, services.definitions(),
                    services.health().getHealthService().bindService(), builder -> builder
                    .bossEventLoopGroup(boss).workerEventLoopGroup(workers).directExecutor()
                    .permitKeepAliveTime(10, TimeUnit.SECONDS)
                    .permitKeepAliveWithoutCalls(true));
        } catch (IOException | RuntimeException e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            timers.shutdownNow();
            streams.shutdownNow();
            outputs.get().close();
            release(stateDir, store);
            throw e;
        }
        ListenAddress bound = listening.address();
        // Agents and children dial the Unix socket: the public one, or for TCP the private one
        // beside it (no TLS material needed, and the agent channel stays off the network).
        String agentAddress = listening.local().toString();
        services.forkdEnv().put("FORKD_ADDRESS", listening.local().toString());
        config.cli().ifPresent(cli -> services.forkdEnv().put(ChildEnvironment.CLI, cli.toString()));
        // No FORKD_TOKEN here: a child gets its own session's credential (ChildCredentials), never the
        // admin token.

        AgentReturn agentReturn = new AgentReturn(agents, System::nanoTime);
        AgentLauncher launcher = new AgentLauncher(posix,
                AgentLauncher.AgentCommand.ofThisJvm(agentAddress, agentToken, config.agentCapacity(),
                        liveness.heartbeat(), restart.orphanGrace()),
                services.agentCredentials(), agentRecords, config.agents(), (agentId, cause) -> {
                    agents.agentProcessExited(agentId, cause);
                    agentReturn.gone(agentId);
                }, timers);
        List<String> adopted = launcher.adopt(leftAgents);
        int launches = Math.max(0, config.agents() - adopted.size());
        CountDownLatch registered = new CountDownLatch(launches);
        agents.onRegistration(() -> observers.agentsRegistered(agents, config.agents()));
        agents.onRegistration(registered::countDown);
        agentReturn.await(adopted);
        new AgentWatchdog(agents, launcher::kill, timers); // ends with the timers
        ForkdServer forkd = new ForkdServer(config, listening, bound, launcher, services,
                timers, streams, boss, workers, stateDir, store, outputs.get());
        try {
            observers.startEndpoint(config.tcpSecurity());
            launcher.start(launches);
            if (!registered.await(AGENT_START_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IOException("the worker-agents did not register within "
                        + AGENT_START_LIMIT.toSeconds() + "s (see the log above)");
            }
            if (!agentReturn.allBack().await(restart.agentReturnWait().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warning("agents " + agentReturn.missing() + " of the previous supervisor did not come back within "
                        + restart.agentReturnWait().toMillis() + " ms");
            }
            services.processes().restore().finish();
            services.startRestoredLeases();
            services.life().attach(how -> {
                if (how == ServerLife.Stop.KEEP_CHILDREN) {
                    forkd.closeLeavingChildren();
                } else {
                    forkd.close();
                }
            });
        } catch (SpawnException e) {
            forkd.close();
            throw new IOException("cannot launch a worker-agent: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            forkd.close();
            throw new IOException("interrupted while waiting for agents", e);
        } catch (IOException e) {
            forkd.close();
            throw e;
        }
        long servingAt = System.nanoTime();
        LOG.info(() -> "forkd listening on " + forkd.address()
                + forkd.healthAddress().map(h -> " (health only, plaintext, on " + h + ")").orElse("")
                + "; agents heartbeat every " + liveness.heartbeat().toMillis() + " ms, lost after "
                + liveness.deadAfter().toMillis() + " ms of silence"
                + forkd.metricsPort().map(p -> "; metrics on " + (config.tcpSecurity() instanceof TcpSecurity.Tls
                        ? "https://" : "http://") + metricsHost(metrics) + ":" + p + "/metrics").orElse("")
                + agentReturn.summary(servingAt).map(s -> "; " + s).orElse(""));
        return forkd;
    }

    /** Where it listens (the TCP port is the real one when 0 was asked). */
    public ListenAddress address() {
        return address;
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
    public synchronized void closeLeavingChildren() {
        if (closed) {
            return;
        }
        closed = true;
        services.beforeStop(); // the cut streams leave sessions and pool tasks kept, as in close()
        services.health().enterTerminalState();
        // First: the agents' streams end next, and that must not count as their loss.
        services.agents().leaveAgents();
        launcher.leaveAgents();
        for (Server s : listening.all()) {
            s.shutdownNow();
        }
        try {
            for (Server s : listening.all()) {
                s.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info(() -> "exiting; " + launcher.agentPids().size() + " agents and their children keep running"
                + " for the next supervisor");
        release();
    }

    /** Stops: no new calls, agents told to stop their children (SIGTERM, then SIGKILL), all reaped. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        services.beforeStop();
        services.health().enterTerminalState();
        listening.all().forEach(Server::shutdown);
        launcher.stopReplacing();
        int graceMillis = (int) config.shutdownGrace().toMillis();
        for (AgentLink link : services.agents().links()) {
            link.shutdown(graceMillis);
        }
        try {
            if (!launcher.awaitAllExited(config.shutdownGrace().plusSeconds(5))) {
                LOG.warning("agents did not stop in time; killing them");
            }
            launcher.close();
            launcher.awaitAllExited(Duration.ofSeconds(5));
            services.cgroups().removeAll(); // the children are gone: their cgroups go too
            for (Server s : listening.all()) {
                s.shutdownNow();
                s.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        release();
    }

    /** What both ways of stopping release once the listeners are down. */
    private void release() {
        services.observers().close();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        timers.shutdownNow();
        streams.shutdownNow();
        outputs.close(); // what was captured is in the files
        release(stateDir, store); // after the cores stopped changing: what they wrote is committed
        try {
            Files.deleteIfExists(listening.local().path());
        } catch (IOException e) {
            LOG.warning("cannot remove socket " + listening.local().path() + ": " + e.getMessage());
        }
        stopped.countDown();
    }

    /**
     * Waits, at most {@code limit}, until a stop begun on another thread (a client's Shutdown call)
     * has released everything: {@link #awaitTermination()} returns as soon as the listeners are
     * down, before the store is closed.
     */
    public boolean awaitStopped(Duration limit) throws InterruptedException {
        return stopped.await(limit.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The port Prometheus scrapes ({@code --metrics-listen}; the real one when 0 was asked), if any. */
    public Optional<Integer> metricsPort() {
        return services.observers().metricsPort();
    }

    private static String metricsHost(MetricsSettings metrics) {
        String host = metrics.listen().map(ListenAddress.Tcp::host).orElse("");
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** The programs declared in the config file (none until {@code forkd serve --config} loads one). */
    public DeclaredPrograms programs() {
        return services.programs();
    }

    /** The process table, for status reporting. */
    public ProcessTable processes() {
        return services.processes();
    }

    /**
     * Gives back what a start took, whether it failed or the server stopped: the store is closed (its
     * writes committed), then the state directory's lock released, so the next {@code forkd serve}
     * can take it.
     */
    private static void release(Optional<StateDirectory> stateDir, StateStore... stores) {
        for (StateStore s : stores) {
            s.close();
        }
        if (stateDir.isPresent()) {
            try {
                stateDir.get().close();
            } catch (IOException e) {
                LOG.warning("cannot release the state directory " + stateDir.get().path() + ": " + e.getMessage());
            }
        }
    }

    private static Optional<String> readToken(Optional<Path> file) throws IOException {
        if (file.isEmpty()) {
            return Optional.empty();
        }
        String token = PrivateFiles.readSecret(file.get(), "token file");
        if (token.length() < 16) {
            throw new IOException("the token in " + file.get() + " is shorter than 16 characters");
        }
        return Optional.of(token);
    }
}
