package dev.forkd.server;

import dev.forkd.server.agent.AgentCredentials;
import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.grpc.AgentServiceAdapter;
import dev.forkd.server.limits.ProcessCgroups;
import dev.forkd.server.grpc.AuthInterceptor;
import dev.forkd.server.grpc.MalformedRequests;
import dev.forkd.server.grpc.PipeServiceAdapter;
import dev.forkd.server.grpc.PoolServiceAdapter;
import dev.forkd.server.grpc.ProcessServiceAdapter;
import dev.forkd.server.grpc.ProgramServiceAdapter;
import dev.forkd.server.process.OutputFiles;
import dev.forkd.server.programs.DeclaredPrograms;
import dev.forkd.server.programs.GroupMemory;
import dev.forkd.server.programs.RssWatch;
import dev.forkd.server.programs.TableRunner;
import dev.forkd.server.grpc.QueueServiceAdapter;
import dev.forkd.server.grpc.SessionInterceptor;
import dev.forkd.server.grpc.ServerServiceAdapter;
import dev.forkd.server.grpc.SessionServiceAdapter;
import dev.forkd.server.grpc.SharedServiceAdapter;
import dev.forkd.server.grpc.SyncServiceAdapter;
import dev.forkd.server.grpc.Unlisted;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.metrics.MetricSources;
import dev.forkd.server.pipe.PipeRegistry;
import dev.forkd.server.pool.PoolRegistry;
import dev.forkd.server.process.ProcessRecords;
import dev.forkd.server.process.ChildSessions;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.queue.QueueRegistry;
import dev.forkd.server.session.ChildCredentials;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.server.shared.SharedStore;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.sync.SyncTable;
import dev.forkd.server.watch.WatchAdmission;
import io.grpc.BindableService;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The cores and their gRPC adapters, wired together once: what {@link ForkdServer} serves on its
 * listeners, and what a test serves on an in-process server. Owns no thread and no socket: the
 * executors are the caller's, and so is the {@link ServerBuilder} the services are added to.
 */
public final class ForkdServices {

    /** The whole server, and the services that need an agent for their work. */
    private static final List<String> HEALTH_SERVICES = List.of(
            HealthStatusManager.SERVICE_NAME_ALL_SERVICES, dev.forkd.v1.ProcessServiceGrpc.SERVICE_NAME,
            dev.forkd.v1.PoolServiceGrpc.SERVICE_NAME);
    private static final Duration AGENT_WAIT_LIMIT = Duration.ofSeconds(15);

    private final SessionRegistry sessions;
    private final AgentCredentials agentCredentials;
    private final AgentRegistry agents;
    private final ProcessTable processes;
    private final DeclaredPrograms programs;
    private final HealthStatusManager health;
    private final MemoryBudget memory;
    private final WatchAdmission watches;
    private final ServerObservers observers;
    private final Map<String, String> forkdEnv;
    private final List<ServerServiceDefinition> definitions;
    private final ServerLife life;
    private final ProcessCgroups cgroups;

    /** What the cores do when the server starts stopping (see {@link #beforeStop}). */
    private final List<Runnable> beforeStop = new java.util.concurrent.CopyOnWriteArrayList<>();

    private ForkdServices(SessionRegistry sessions, AgentCredentials agentCredentials, AgentRegistry agents,
            ProcessTable processes, DeclaredPrograms programs, HealthStatusManager health, MemoryBudget memory,
            WatchAdmission watches, ServerObservers observers, Map<String, String> forkdEnv,
            List<ServerServiceDefinition> definitions, ServerLife life, ProcessCgroups cgroups) {
        this.cgroups = cgroups;
        this.sessions = sessions;
        this.agentCredentials = agentCredentials;
        this.agents = agents;
        this.processes = processes;
        this.programs = programs;
        this.health = health;
        this.memory = memory;
        this.watches = watches;
        this.observers = observers;
        this.forkdEnv = forkdEnv;
        this.definitions = definitions;
        this.life = life;
    }

    /**
     * Builds every core and adapter.
     *
     * @param timers the cores' timeouts and leases
     * @param streams where streams drain and blocking-free callbacks run
     * @param children who runs the children
     * @param auth the token check: admin and agent tokens
     */
    public static ForkdServices assemble(ServiceSettings settings, Clock clock, ScheduledExecutorService timers,
            ExecutorService streams, ChildRunner children, AuthInterceptor auth) {
        return assemble(settings, clock, timers, streams, children, auth, StateStore.none());
    }

    /**
     * {@link #assemble(ServiceSettings, Clock, ScheduledExecutorService, ExecutorService, ChildRunner,
     * AuthInterceptor)} with the cores' state loaded from, and kept in, {@code store}.
     */
    public static ForkdServices assemble(ServiceSettings settings, Clock clock, ScheduledExecutorService timers,
            ExecutorService streams, ChildRunner children, AuthInterceptor auth, StateStore store) {
        return assemble(settings, clock, timers, streams, children, auth, store, memory -> OutputFiles.none());
    }

    /**
     * {@link #assemble(ServiceSettings, Clock, ScheduledExecutorService, ExecutorService, ChildRunner,
     * AuthInterceptor, StateStore)} with the processes' output kept in the files {@code outputs} makes
     * (given the server's memory budget, which their writes in flight are charged to).
     */
    public static ForkdServices assemble(ServiceSettings settings, Clock clock, ScheduledExecutorService timers,
            ExecutorService streams, ChildRunner children, AuthInterceptor auth, StateStore store,
            java.util.function.Function<MemoryBudget, OutputFiles> outputs) {
        return assemble(settings, clock, timers, streams, children, auth, store, outputs,
                ProcessCgroups.none("this server makes no cgroups"));
    }

    /**
     * {@link #assemble(ServiceSettings, Clock, ScheduledExecutorService, ExecutorService, ChildRunner,
     * AuthInterceptor, StateStore, java.util.function.Function)} with the processes' cgroup limits
     * applied in {@code cgroups}.
     */
    public static ForkdServices assemble(ServiceSettings settings, Clock clock, ScheduledExecutorService timers,
            ExecutorService streams, ChildRunner children, AuthInterceptor auth, StateStore store,
            java.util.function.Function<MemoryBudget, OutputFiles> outputs, ProcessCgroups cgroups) {
        ServerObservers observers = new ServerObservers(settings.metrics(), clock);
        MemoryBudget memory = new MemoryBudget(settings.memoryBudget());
        SessionRegistry sessions = new SessionRegistry(timers, settings.maxSessions(), store);
        OutputFiles outputFiles = outputs.apply(memory);
        ProcessTable[] table = new ProcessTable[1];
        AgentCredentials credentials = new AgentCredentials();
        AgentRegistry agents = new AgentRegistry(timers, AGENT_WAIT_LIMIT,
                (agentId, cause) -> {
                    observers.agentLost(agentId, cause);
                    table[0].onAgentLost(agentId, cause);
                }, credentials,
                new AgentLiveness(settings.agentLiveness(), System::nanoTime));
        ProcessTable processes = new ProcessTable(children.agents(agents, () -> table[0]), children.groupKiller(),
                childSessions(sessions), timers, clock, () -> ThreadLocalRandom.current().nextDouble(),
                settings.maxProcesses(), memory, observers.events(), new ProcessRecords(store, outputFiles));
        table[0] = processes;
        processes.restore().load(); // reconciled with the agents that come back once the server listens
        sessions.onEndTerminateProcesses(processes::terminateDaemonsOf);
        SyncTable sync = new SyncTable(timers, sessions::exists, settings.sync(), observers.events(), System::nanoTime, store);
        sessions.onEnd(sync::sessionEnded);
        SharedStore shared = new SharedStore(settings.shared(), memory, store);
        QueueRegistry queues = new QueueRegistry(settings.queues(), timers, memory, observers.events(), store);
        sessions.onEnd(queues::releaseSession);
        PipeRegistry pipes = new PipeRegistry(settings.pipes(), timers, memory, store);
        WatchAdmission watches = new WatchAdmission(settings.watches(), memory);
        PoolRegistry pools = new PoolRegistry(processes, timers, streams, clock, settings.maxPools(), memory,
                observers.events(), store);
        pools.restore();
        sessions.onEnd(pools::sessionEnded);
        observers.gauges(new MetricSources(processes::countByState,
                () -> agents.links().stream().map(l -> new MetricSources.Agent(l.agentId(), l.pid())).toList(),
                () -> queues.list(0, Integer.MAX_VALUE).stream().map(q -> q.snapshot())
                        .map(q -> new MetricSources.Queue(q.name().orElse(q.id()), q.size(), q.inFlight())).toList(),
                () -> sync.list(Optional.empty()).stream().filter(i -> i.kind().isLock() || i.kind().isSemaphore())
                        .map(i -> new MetricSources.Lock(i.name(), i.waiters())).toList(),
                outputFiles::lostBytes));

        HealthStatusManager health = new HealthStatusManager();
        // Serving only while a live agent can take work: a probe sees the truth.
        agents.onAvailability(available -> {
            ServingStatus status = available ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
            for (String service : HEALTH_SERVICES) {
                health.setStatus(service, status);
            }
        });
        // Filled in by whoever listens (FORKD_ADDRESS): a child's environment is what its spawner
        // asked for plus this; never the server's own, which may hold its secrets.
        Map<String, String> forkdEnv = new ConcurrentHashMap<>();
        // Decides admin or child; a call that is not a child's must pass `auth` to be the admin's.
        var session = new SessionInterceptor(sessions, auth);
        // Request bytes that do not parse answer INVALID_ARGUMENT with one rate-limited log line.
        var malformed = new MalformedRequests(System::nanoTime);
        Map<String, String> childBase = settings.childBaseEnv();
        TableRunner programRunner = new TableRunner(processes, childBase, forkdEnv, settings.defaultOutputLimit());
        DeclaredPrograms programs = new DeclaredPrograms(programRunner);
        new RssWatch(programs, programRunner, new GroupMemory(Path.of("/proc")), timers).start(); // ends with the timers
        ServerLife life = new ServerLife(store.keeps());
        // The RPC metrics (when on) outermost, so refused calls count too.
        List<ServerServiceDefinition> definitions = List.of(
                guarded(malformed, new ProgramServiceAdapter(programs, processes), session),
                guarded(malformed, new ProcessServiceAdapter(processes, childBase, forkdEnv,
                        settings.defaultOutputLimit(), settings.maxOutputLimit(), streams, watches, cgroups), session),
                guarded(malformed, new SessionServiceAdapter(sessions), session),
                guarded(malformed, new ServerServiceAdapter(life, () -> {
                    Map<String, Integer> byState = processes.countByState();
                    return byState.getOrDefault("running", 0) + byState.getOrDefault("starting", 0);
                }), session),
                guarded(malformed, new PoolServiceAdapter(pools, childBase, forkdEnv, settings.defaultOutputLimit(),
                        settings.maxOutputLimit(), settings.cpus(), streams, cgroups), session),
                guarded(malformed, new SyncServiceAdapter(sync), session),
                guarded(malformed, new SharedServiceAdapter(shared, streams, watches), session),
                guarded(malformed, new QueueServiceAdapter(queues, streams), session),
                guarded(malformed, new PipeServiceAdapter(pipes, streams), session),
                guarded(malformed, observers.eventService(streams), session),
                Unlisted.of(guarded(malformed, new AgentServiceAdapter(agents, processes, timers, cgroups), auth)),
                guarded(malformed, health.getHealthService(), auth),
                guarded(malformed, ProtoReflectionServiceV1.newInstance(), auth))
                .stream().map(observers::observed).toList();
        ForkdServices services = new ForkdServices(sessions, credentials, agents, processes, programs, health, memory,
                watches, observers, forkdEnv, definitions, life, cgroups);
        services.beforeStop.add(pools::stopping);
        services.beforeStop.add(sessions::serverStopping); // the streams the stop cuts leave their sessions kept
        return services;
    }

    private static ServerServiceDefinition guarded(MalformedRequests malformed, BindableService service,
            ServerInterceptor interceptor) {
        return malformed.guard(ServerInterceptors.intercept(service, interceptor));
    }

    private static boolean knows(ProcessTable processes, String processId) {
        try {
            processes.get(processId);
            return true;
        } catch (dev.forkd.server.error.ForkdException.NotFound e) {
            return false;
        }
    }

    private static ChildSessions childSessions(SessionRegistry sessions) {
        return new ChildSessions() {
            @Override
            public ChildSessions.ChildSession open(String processId) {
                var opened = sessions.openUnleased("process " + processId, processId);
                return new ChildSessions.ChildSession(opened.id(), ChildCredentials.variables(opened.credential()));
            }

            @Override
            public void end(String sessionId) {
                sessions.end(sessionId);
            }

            @Override
            public boolean isOpen(String sessionId) {
                return sessions.exists(sessionId);
            }
        };
    }

    /** Adds every service to {@code builder} (a Netty listener, or an in-process server in tests). */
    public <B extends ServerBuilder<B>> B addTo(B builder) {
        definitions.forEach(builder::addService);
        return builder;
    }

    /** Every service, interceptors applied. */
    public List<ServerServiceDefinition> definitions() {
        return definitions;
    }

    /**
     * The variables every child gets from forkd itself ({@code FORKD_ADDRESS}), set once the
     * server knows where it listens.
     */
    public Map<String, String> forkdEnv() {
        return forkdEnv;
    }

    public SessionRegistry sessions() {
        return sessions;
    }

    /** Where agents register; expects the secrets of the agents the supervisor launches. */
    public AgentRegistry agents() {
        return agents;
    }

    public AgentCredentials agentCredentials() {
        return agentCredentials;
    }

    public ProcessTable processes() {
        return processes;
    }

    /** The programs declared in the config file (none until {@code forkd serve --config} loads one). */
    public DeclaredPrograms programs() {
        return programs;
    }

    /** How a client's Shutdown call stops the server. */
    public ServerLife life() {
        return life;
    }

    public HealthStatusManager health() {
        return health;
    }

    /** The processes' cgroups (for cgroup limits): the server removes them as it stops. */
    public ProcessCgroups cgroups() {
        return cgroups;
    }

    /** The one budget every core holds client bytes from. */
    public MemoryBudget memory() {
        return memory;
    }

    /** The event stream and metrics: the server starts and stops the metrics endpoint. */
    ServerObservers observers() {
        return observers;
    }

    /** The open process and shared-object watches, against their caps. */
    public WatchAdmission watches() {
        return watches;
    }

    /**
     * The server serves again, its agents back and its processes reconciled: the sessions the last
     * server kept get their lease from now (a client has its whole TTL to resume one, however long the
     * start took), and those of processes that are gone end.
     */
    public void startRestoredLeases() {
        sessions.startRestoredLeases(processId -> knows(processes, processId));
    }

    /**
     * The server is stopping: the cores stop recording what the stop itself does to their work (a
     * pool task whose worker the stop kills is run again after a restart, not kept as failed).
     */
    public void beforeStop() {
        beforeStop.forEach(Runnable::run);
    }
}
