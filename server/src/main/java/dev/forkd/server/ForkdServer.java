package dev.forkd.server;

import dev.forkd.agent.os.Posix;
import dev.forkd.agent.os.SpawnException;
import dev.forkd.server.agent.AgentCredentials;
import dev.forkd.server.agent.AgentLauncher;
import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.server.agent.AgentWatchdog;
import dev.forkd.server.agent.AgentLink;
import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.config.ListenAddress;
import dev.forkd.server.config.PrivateFiles;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.TcpSecurity;
import dev.forkd.server.grpc.AgentServiceAdapter;
import dev.forkd.server.grpc.Unlisted;
import dev.forkd.server.grpc.AuthInterceptor;
import dev.forkd.server.grpc.MalformedRequests;
import dev.forkd.server.grpc.PoolServiceAdapter;
import dev.forkd.server.grpc.PipeServiceAdapter;
import dev.forkd.server.grpc.ProcessServiceAdapter;
import dev.forkd.server.grpc.QueueServiceAdapter;
import dev.forkd.server.grpc.SessionInterceptor;
import dev.forkd.server.grpc.SessionServiceAdapter;
import dev.forkd.server.pool.PoolRegistry;
import dev.forkd.server.grpc.SharedServiceAdapter;
import dev.forkd.server.grpc.SyncServiceAdapter;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.metrics.MetricSources;
import dev.forkd.server.metrics.MetricsEndpoint;
import dev.forkd.server.metrics.MetricsSettings;
import dev.forkd.server.watch.WatchAdmission;
import dev.forkd.server.shared.SharedStore;
import dev.forkd.server.sync.SyncTable;
import dev.forkd.server.pipe.PipeLimits;
import dev.forkd.server.pipe.PipeRegistry;
import dev.forkd.server.process.ChildEnvironment;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.queue.QueueLimits;
import dev.forkd.server.queue.QueueRegistry;
import dev.forkd.server.session.ChildCredentials;
import dev.forkd.server.session.SessionRegistry;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/** The supervisor: the gRPC server, its agents and its state, started and stopped as one. */
public final class ForkdServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ForkdServer.class.getName());
    private static final Duration AGENT_START_LIMIT = Duration.ofSeconds(90);
    /** The whole server, and the services that need an agent for their work. */
    private static final java.util.List<String> HEALTH_SERVICES = java.util.List.of(
            HealthStatusManager.SERVICE_NAME_ALL_SERVICES, dev.forkd.v1.ProcessServiceGrpc.SERVICE_NAME,
            dev.forkd.v1.PoolServiceGrpc.SERVICE_NAME);

    private final ServerConfig config;
    private final Listeners.Started listening;
    private final ListenAddress address;
    private final AgentLauncher launcher;
    private final AgentRegistry agents;
    private final ProcessTable processes;
    private final HealthStatusManager health;
    private final ScheduledExecutorService timers;
    private final ExecutorService streams;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private volatile boolean closed;
    /** The event stream and metrics; set once, right after construction. */
    private ServerObservers observers;

    private ForkdServer(ServerConfig config, Listeners.Started listening, ListenAddress address, AgentLauncher launcher,
            AgentRegistry agents, ProcessTable processes, HealthStatusManager health,
            ScheduledExecutorService timers, ExecutorService streams, EventLoopGroup boss,
            EventLoopGroup workers) {
        this.config = config;
        this.listening = listening;
        this.address = address;
        this.launcher = launcher;
        this.agents = agents;
        this.processes = processes;
        this.health = health;
        this.timers = timers;
        this.streams = streams;
        this.boss = boss;
        this.workers = workers;
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
        metrics.listen().ifPresent(address -> MetricsEndpoint.check(address, config.tcpSecurity()));
        ServerObservers observers = new ServerObservers(metrics, Clock.systemUTC());
        Posix posix = new Posix();
        Optional<String> clientToken = readToken(config.tokenFile());
        String agentToken = HexFormat.of().formatHex(new SecureRandom().generateSeed(24));

        var timers = new ScheduledThreadPoolExecutor(2, Thread.ofPlatform().name("forkd-timer-", 0).daemon().factory());
        timers.setRemoveOnCancelPolicy(true);
        ExecutorService streams = Executors.newFixedThreadPool(
                Math.max(2, Runtime.getRuntime().availableProcessors()),
                Thread.ofPlatform().name("forkd-stream-", 0).daemon().factory());

        MemoryBudget memory = new MemoryBudget(config.memoryBudget());
        SessionRegistry sessions = new SessionRegistry(timers, 100_000);
        ProcessTable[] table = new ProcessTable[1];
        AgentCredentials credentials = new AgentCredentials();
        AgentRegistry agents = new AgentRegistry(timers, Duration.ofSeconds(15),
                (agentId, cause) -> {
                    observers.agentLost(agentId, cause);
                    table[0].onAgentLost(agentId, cause);
                }, credentials,
                new AgentLiveness(liveness, System::nanoTime));
        ProcessTable processes = new ProcessTable(agents, pgid -> posix.kill(-pgid, 9),
                new ProcessTable.ChildSessions() {
                    @Override
                    public ProcessTable.ChildSession open(String processId) {
                        var opened = sessions.openUnleased("process " + processId, processId);
                        return new ProcessTable.ChildSession(opened.id(), ChildCredentials.variables(opened.credential()));
                    }

                    @Override
                    public void end(String sessionId) {
                        sessions.end(sessionId);
                    }

                    @Override
                    public boolean isOpen(String sessionId) {
                        return sessions.exists(sessionId);
                    }
                }, timers, Clock.systemUTC(), () -> ThreadLocalRandom.current().nextDouble(),
                config.maxProcesses(), memory, observers.events());
        table[0] = processes;
        sessions.onEndTerminateProcesses(processes::terminateDaemonsOf);
        SyncTable sync = new SyncTable(timers, sessions::exists, SyncTable.Limits.DEFAULT, observers.events(),
                System::nanoTime);
        sessions.onEnd(sync::sessionEnded);
        SharedStore shared = new SharedStore(SharedStore.Limits.DEFAULT, memory);
        QueueRegistry queues = new QueueRegistry(QueueLimits.defaults(), timers, memory, observers.events());
        sessions.onEnd(queues::releaseSession);
        PipeRegistry pipes = new PipeRegistry(PipeLimits.defaults(), timers, memory);
        WatchAdmission watches = new WatchAdmission(WatchAdmission.Limits.DEFAULT, memory);

        PoolRegistry pools = new PoolRegistry(processes, timers, streams, Clock.systemUTC(), 1000, memory,
                observers.events());
        observers.gauges(new MetricSources(processes::countByState,
                () -> agents.links().stream().map(l -> new MetricSources.Agent(l.agentId(), l.pid())).toList(),
                () -> queues.list(0, Integer.MAX_VALUE).stream().map(q -> q.snapshot())
                        .map(q -> new MetricSources.Queue(q.name().orElse(q.id()), q.size(), q.inFlight())).toList(),
                () -> sync.list(Optional.empty()).stream().filter(i -> i.kind().isLock() || i.kind().isSemaphore())
                        .map(i -> new MetricSources.Lock(i.name(), i.waiters())).toList()));
        sessions.onEnd(pools::sessionEnded);

        EventLoopGroup boss = new EpollEventLoopGroup(1, Thread.ofPlatform().name("forkd-accept").daemon().factory());
        EventLoopGroup workers = new EpollEventLoopGroup(2, Thread.ofPlatform().name("forkd-io-", 0).daemon().factory());
        HealthStatusManager health = new HealthStatusManager();
        // Serving only while a live agent can take work: a probe sees the truth.
        agents.onAvailability(available -> {
            var status = available ? io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
                    : io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING;
            for (String service : HEALTH_SERVICES) {
                health.setStatus(service, status);
            }
        });
        Map<String, String> forkdEnv = new java.util.concurrent.ConcurrentHashMap<>();
        var auth = new AuthInterceptor(agentToken, clientToken);
        // Decides admin or child; a call that is not a child's must pass `auth` to be the admin's.
        var session = new SessionInterceptor(sessions, auth);
        // A child's environment is what its spawner asked for plus forkdEnv; never this server's own
        // (which may hold its secrets). Only a PATH is supplied, for a spawn that sends none.
        Map<String, String> childBase = ChildEnvironment.BASE;
        // Request bytes that do not parse answer INVALID_ARGUMENT with one rate-limited log line.
        MalformedRequests malformed = new MalformedRequests(System::nanoTime);
        List<ServerServiceDefinition> services = List.of(
                malformed.guard(ServerInterceptors.intercept(new ProcessServiceAdapter(processes, childBase,
                        forkdEnv, config.defaultOutputLimit(), config.maxOutputLimit(), streams, watches), session)),
                malformed.guard(ServerInterceptors.intercept(new SessionServiceAdapter(sessions), session)),
                malformed.guard(ServerInterceptors.intercept(new PoolServiceAdapter(pools, childBase, forkdEnv,
                        config.defaultOutputLimit(), config.maxOutputLimit(),
                        Runtime.getRuntime().availableProcessors(), streams), session)),
                malformed.guard(ServerInterceptors.intercept(new SyncServiceAdapter(sync), session)),
                malformed.guard(ServerInterceptors.intercept(new SharedServiceAdapter(shared, streams, watches), session)),
                malformed.guard(ServerInterceptors.intercept(new QueueServiceAdapter(queues, streams), session)),
                malformed.guard(ServerInterceptors.intercept(new PipeServiceAdapter(pipes, streams), session)),
                malformed.guard(ServerInterceptors.intercept(observers.eventService(streams), session)),
                Unlisted.of(malformed.guard(ServerInterceptors.intercept(new AgentServiceAdapter(agents, processes, timers), auth))),
                malformed.guard(ServerInterceptors.intercept(health.getHealthService(), auth)),
                malformed.guard(ServerInterceptors.intercept(ProtoReflectionServiceV1.newInstance(), auth)));
        // Every handler answers or parks a callback and returns; none blocks (DESIGN §8: no thread
        // per waiter), and streams drain on `streams`. So calls run on the event loop that read
        // them: a hand-off to a pool thread per call cost more than most calls' work.
        services = services.stream().map(observers::observed).toList();
        Listeners.Started listening = Listeners.start(config, services, health.getHealthService().bindService(), builder -> builder
                .bossEventLoopGroup(boss).workerEventLoopGroup(workers).directExecutor()
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true));
        ListenAddress bound = listening.address();
        // Agents and children dial the Unix socket: the public one, or for TCP the private one
        // beside it (no TLS material needed, and the agent channel stays off the network).
        String agentAddress = listening.local().toString();
        forkdEnv.put("FORKD_ADDRESS", listening.local().toString());
        config.cli().ifPresent(cli -> forkdEnv.put(ChildEnvironment.CLI, cli.toString()));
        // No FORKD_TOKEN here: a child gets its own session's credential (ChildCredentials), never the
        // admin token.

        CountDownLatch registered = new CountDownLatch(config.agents());
        agents.onRegistration(() -> observers.agentsRegistered(agents, config.agents()));
        agents.onRegistration(registered::countDown);
        AgentLauncher launcher = new AgentLauncher(posix,
                AgentLauncher.AgentCommand.ofThisJvm(agentAddress, agentToken, config.agentCapacity(),
                        liveness.heartbeat()),
                credentials, config.agents(), agents::agentProcessExited, timers);
        new AgentWatchdog(agents, launcher::kill, timers); // ends with the timers
        ForkdServer forkd = new ForkdServer(config, listening, bound, launcher, agents, processes, health,
                timers, streams, boss, workers);
        forkd.observers = observers;
        try {
            observers.startEndpoint(config.tcpSecurity());
            launcher.start();
            if (!registered.await(AGENT_START_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IOException("the worker-agents did not register within "
                        + AGENT_START_LIMIT.toSeconds() + "s (see the log above)");
            }
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
        LOG.info(() -> "forkd listening on " + forkd.address()
                + forkd.healthAddress().map(h -> " (health only, plaintext, on " + h + ")").orElse("")
                + "; agents heartbeat every " + liveness.heartbeat().toMillis() + " ms, lost after "
                + liveness.deadAfter().toMillis() + " ms of silence"
                + forkd.metricsPort().map(p -> "; metrics on " + (config.tcpSecurity() instanceof TcpSecurity.Tls
                        ? "https://" : "http://") + metricsHost(metrics) + ":" + p + "/metrics").orElse(""));
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

    /** Stops: no new calls, agents told to stop their children (SIGTERM, then SIGKILL), all reaped. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        health.enterTerminalState();
        listening.all().forEach(Server::shutdown);
        launcher.stopReplacing();
        int graceMillis = (int) config.shutdownGrace().toMillis();
        for (AgentLink link : agents.links()) {
            link.shutdown(graceMillis);
        }
        try {
            if (!launcher.awaitAllExited(config.shutdownGrace().plusSeconds(5))) {
                LOG.warning("agents did not stop in time; killing them");
            }
            launcher.close();
            launcher.awaitAllExited(Duration.ofSeconds(5));
            for (Server s : listening.all()) {
                s.shutdownNow();
                s.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        observers.close();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        timers.shutdownNow();
        streams.shutdownNow();
        try {
            Files.deleteIfExists(listening.local().path());
        } catch (IOException e) {
            LOG.warning("cannot remove socket " + listening.local().path() + ": " + e.getMessage());
        }
    }

    /** The port Prometheus scrapes ({@code --metrics-listen}; the real one when 0 was asked), if any. */
    public Optional<Integer> metricsPort() {
        return observers.metricsPort();
    }

    private static String metricsHost(MetricsSettings metrics) {
        String host = metrics.listen().map(ListenAddress.Tcp::host).orElse("");
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** The process table, for status reporting. */
    public ProcessTable processes() {
        return processes;
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
