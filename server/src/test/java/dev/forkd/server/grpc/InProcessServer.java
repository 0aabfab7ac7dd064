package dev.forkd.server.grpc;

import dev.forkd.server.ChildRunner;
import dev.forkd.server.ForkdServices;
import dev.forkd.server.ServiceSettings;
import dev.forkd.server.agent.AgentCredentials;
import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.metrics.MetricsSettings;
import dev.forkd.server.pipe.PipeLimits;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.queue.QueueLimits;
import dev.forkd.server.session.SessionRegistry;
import dev.forkd.server.shared.SharedStore;
import dev.forkd.server.sync.SyncTable;
import dev.forkd.server.watch.WatchAdmission;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The server's real services and interceptors ({@link ForkdServices}, as {@code forkd serve} wires
 * them) on an in-process server with a unique name, and a channel to it; children run on an
 * {@link InstantAgent}. Calls come as the admin (no client token). Limits are small, so tests reach
 * them quickly: see {@link #QUEUE_LIMITS}; output kept 1 KiB by default and 4 KiB at most; pools of
 * 2 by default, at most 100 pools; a child's PATH {@code /bin}. No memory budget unless asked for.
 */
final class InProcessServer implements AutoCloseable {

    /**
     * 10 queues of 100 items by default and 1,000 at most; items of 1 KiB, 1 MiB a queue; batches of
     * 500, credit 100, 100 waiters.
     */
    static final QueueLimits QUEUE_LIMITS = new QueueLimits(10, 100, 1000, 1024, 1 << 20, 500, 100, 100);

    /** The token an agent's stream must carry. */
    static final String AGENT_TOKEN = "agent-token-for-tests";

    private final ScheduledExecutorService timers;
    private final ExecutorService streams;
    private final ForkdServices services;
    private final Server server;
    private final ManagedChannel channel;

    private InProcessServer(ScheduledExecutorService timers, ExecutorService streams, ForkdServices services,
            Server server, ManagedChannel channel) {
        this.timers = timers;
        this.streams = streams;
        this.services = services;
        this.server = server;
        this.channel = channel;
    }

    /** With room for 100 sessions. */
    static InProcessServer start() throws IOException {
        return start(100);
    }

    /** With room for {@code maxSessions} sessions, each child's own included. */
    static InProcessServer start(int maxSessions) throws IOException {
        return start(settings(maxSessions, WatchAdmission.Limits.DEFAULT, Long.MAX_VALUE));
    }

    /** With these caps on watches, and a memory budget of {@code memoryBudget} bytes for everything. */
    static InProcessServer start(WatchAdmission.Limits watches, long memoryBudget) throws IOException {
        return start(settings(100, watches, memoryBudget));
    }

    private static InProcessServer start(ServiceSettings settings) throws IOException {
        ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
        return start(settings, timers, InstantAgent.runner(timers));
    }

    /**
     * Children run on agents that connect to the AgentService with {@link #AGENT_TOKEN} and register
     * with a secret the test put in {@link #agentCredentials()}; no process group is ever killed.
     */
    static InProcessServer withRegisteredAgents() throws IOException {
        ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
        return start(settings(100, WatchAdmission.Limits.DEFAULT, Long.MAX_VALUE), timers,
                ChildRunner.registeredAgents(pgid -> {}));
    }

    private static ServiceSettings settings(int maxSessions, WatchAdmission.Limits watches, long memoryBudget) {
        return new ServiceSettings(1024, 4096, 1000, memoryBudget, maxSessions, 100, 2, Map.of("PATH", "/bin"),
                QUEUE_LIMITS, PipeLimits.defaults(), SyncTable.Limits.DEFAULT, SharedStore.Limits.DEFAULT, watches,
                AgentLiveness.Settings.DEFAULT, MetricsSettings.NONE);
    }

    private static InProcessServer start(ServiceSettings settings, ScheduledExecutorService timers,
            ChildRunner children) throws IOException {
        ExecutorService streams = Executors.newFixedThreadPool(2);
        ForkdServices services = ForkdServices.assemble(settings, Clock.systemUTC(), timers, streams,
                children, new AuthInterceptor(AGENT_TOKEN, Optional.empty()));
        services.startRestoredLeases();
        String name = InProcessServerBuilder.generateName();
        // directExecutor, as forkd serve runs calls on the event loop that read them.
        Server server = services.addTo(InProcessServerBuilder.forName(name).directExecutor()).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        return new InProcessServer(timers, streams, services, server, channel);
    }

    ManagedChannel channel() {
        return channel;
    }

    SessionRegistry sessions() {
        return services.sessions();
    }

    ProcessTable processes() {
        return services.processes();
    }

    WatchAdmission watches() {
        return services.watches();
    }

    MemoryBudget memory() {
        return services.memory();
    }

    AgentRegistry agents() {
        return services.agents();
    }

    AgentCredentials agentCredentials() {
        return services.agentCredentials();
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        timers.shutdownNow();
        streams.shutdownNow();
    }
}
