package dev.forkd.server;

import dev.forkd.address.ListenAddress;
import dev.forkd.agent.v1.StoredAgent;
import dev.forkd.posix.Posix;
import dev.forkd.posix.SpawnException;
import dev.forkd.server.agent.AgentLauncher;
import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.server.agent.AgentRecords;
import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.agent.AgentReturn;
import dev.forkd.server.agent.AgentWatchdog;
import dev.forkd.server.config.PrivateFiles;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.TcpSecurity;
import dev.forkd.server.grpc.AuthInterceptor;
import dev.forkd.server.limits.ProcessCgroups;
import dev.forkd.server.metrics.MetricsEndpoint;
import dev.forkd.server.metrics.MetricsSettings;
import dev.forkd.server.process.ChildEnvironment;
import dev.forkd.server.process.OutputFiles;
import dev.forkd.server.store.StateDirectory;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreException;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * How a server is put together and started, in the order that lets each part find what it needs:
 * the state directory taken (a second server on it stops here), the store opened and what it kept
 * loaded, the cores assembled ({@link ForkdServices}), the listeners started, then the agents
 * adopted or launched and awaited. A start that fails gives back what it took.
 */
final class ServerStart {

    private static final Logger LOG = Logger.getLogger(ServerStart.class.getName());
    private static final Duration AGENT_START_LIMIT = Duration.ofSeconds(90);

    private ServerStart() {}

    /** A server that serves: where it listens, its services, and how it stops. */
    record Serving(Listeners.Started listening, ForkdServices services, ServerStop stop) {}

    /**
     * Starts a server as {@code ForkdServer.start(config, liveness, metrics, restart)} says: returns
     * once it accepts calls and every agent has registered.
     */
    static Serving start(ServerConfig config, AgentLiveness.Settings liveness, MetricsSettings metrics,
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
            ServerStop.releaseState(stateDir);
            throw new IOException(e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            ServerStop.releaseState(stateDir);
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
            ServerStop.releaseState(stateDir, store);
            throw new IOException("cannot load the kept agents: " + e.getMessage()
                    + " (forkd serve --fresh starts empty, discarding them)", e);
        }
        // One cgroup per process with cgroup limits, under a parent named for this server; a fresh
        // start removes what an earlier server on this state directory left. Before any agent starts:
        // on cgroup v2 this server moves into its delegated cgroup's leaf, where its agents are born.
        ProcessCgroups cgroups;
        try {
            cgroups = ProcessCgroups.host(config.store().dir(), config.cgroup());
        } catch (IOException | RuntimeException e) {
            ServerStop.releaseState(stateDir, store);
            throw e;
        }
        if (config.store().fresh()) {
            cgroups.removeAll();
        }
        var timers = new ScheduledThreadPoolExecutor(2, Thread.ofPlatform().name("forkd-timer-", 0).daemon().factory());
        timers.setRemoveOnCancelPolicy(true);
        ExecutorService streams = Executors.newFixedThreadPool(
                Math.max(2, Runtime.getRuntime().availableProcessors()),
                Thread.ofPlatform().name("forkd-stream-", 0).daemon().factory());
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
            ServerStop.releaseState(stateDir, store);
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
            ServerStop.releaseState(stateDir, store);
            throw e;
        }
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
        ServerStop stop = new ServerStop(config.shutdownGrace(), new ServerStop.Taken(listening, launcher, services,
                timers, streams, boss, workers, stateDir, store, outputs.get()));
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
            services.life().attach(stop::stop);
        } catch (SpawnException e) {
            stop.stop(ServerLife.Stop.EVERYTHING);
            throw new IOException("cannot launch a worker-agent: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop.stop(ServerLife.Stop.EVERYTHING);
            throw new IOException("interrupted while waiting for agents", e);
        } catch (IOException e) {
            stop.stop(ServerLife.Stop.EVERYTHING);
            throw e;
        }
        long servingAt = System.nanoTime();
        LOG.info(() -> "forkd listening on " + listening.address()
                + listening.healthAddress().map(h -> " (health only, plaintext, on " + h + ")").orElse("")
                + "; agents heartbeat every " + liveness.heartbeat().toMillis() + " ms, lost after "
                + liveness.deadAfter().toMillis() + " ms of silence"
                + observers.metricsPort().map(p -> "; metrics on " + (config.tcpSecurity() instanceof TcpSecurity.Tls
                        ? "https://" : "http://") + metricsHost(metrics) + ":" + p + "/metrics").orElse("")
                + agentReturn.summary(servingAt).map(s -> "; " + s).orElse(""));
        return new Serving(listening, services, stop);
    }

    private static String metricsHost(MetricsSettings metrics) {
        String host = metrics.listen().map(ListenAddress.Tcp::host).orElse("");
        return host.contains(":") ? "[" + host + "]" : host;
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
