package dev.forkd.server;

import dev.forkd.server.agent.AgentLink;
import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.config.TcpSecurity;
import dev.forkd.server.events.Event;
import dev.forkd.server.events.EventHub;
import dev.forkd.server.events.EventKind;
import dev.forkd.server.events.LifecycleLog;
import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.grpc.EventServiceAdapter;
import dev.forkd.server.grpc.RpcMetricsInterceptor;
import dev.forkd.server.metrics.ForkdMetrics;
import dev.forkd.server.metrics.MetricSources;
import dev.forkd.server.metrics.MetricsEndpoint;
import dev.forkd.server.metrics.MetricsSettings;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Who watches the server: the event stream (always) and, with {@code --metrics-listen}, the
 * Prometheus metrics and their endpoint. The cores get {@link #events()}, the one listener they
 * tell what happens; the gRPC services get the metrics interceptor.
 */
final class ServerObservers implements AutoCloseable {

    private final MetricsSettings settings;
    private final EventHub hub;
    private final Optional<PrometheusRegistry> registry;
    private final Optional<ForkdMetrics> metrics;
    private final ServerEvents events;
    private final Optional<ServerInterceptor> rpcMetrics;
    /** The agents connected at the last registration, and how many registrations there were. */
    private final Set<String> agentsSeen = new HashSet<>();
    private long registrations;
    private volatile Optional<MetricsEndpoint> endpoint = Optional.empty();

    ServerObservers(MetricsSettings settings, Clock clock) {
        this.settings = settings;
        this.hub = new EventHub(clock, EventHub.Limits.DEFAULT);
        if (settings.listen().isPresent()) {
            PrometheusRegistry r = new PrometheusRegistry();
            JvmMetrics.builder().register(r);
            ForkdMetrics m = new ForkdMetrics(r, settings.perResourceLabels());
            registry = Optional.of(r);
            metrics = Optional.of(m);
            events = ServerEvents.both(ServerEvents.both(m, hub), LifecycleLog.toServerLog());
            rpcMetrics = Optional.of(new RpcMetricsInterceptor(r));
        } else {
            registry = Optional.empty();
            metrics = Optional.empty();
            events = ServerEvents.both(hub, LifecycleLog.toServerLog());
            rpcMetrics = Optional.empty();
        }
    }

    /** What the cores tell. */
    ServerEvents events() {
        return events;
    }

    /** The gauges' readings, once the cores exist. */
    void gauges(MetricSources sources) {
        metrics.ifPresent(m -> m.gauges(sources));
    }

    /** The service with the RPC metrics outermost, so refused calls count too. */
    ServerServiceDefinition observed(ServerServiceDefinition service) {
        return rpcMetrics.map(i -> ServerInterceptors.intercept(service, i)).orElse(service);
    }

    EventServiceAdapter eventService(Executor executor) {
        return new EventServiceAdapter(hub, executor);
    }

    /** An agent was lost: an event, and the metric. */
    void agentLost(String agentId, String cause) {
        events.happened(Event.of(EventKind.AGENT_LOST, agentId, Optional.empty(), Map.of("cause", cause)));
    }

    /**
     * Tells of each agent that registers; those after the first {@code initial} replace lost ones.
     * Called after each registration; the registry does not say which agent, so the new ones are
     * those not among the agents seen last time (a set no larger than the agents connected).
     */
    void agentsRegistered(AgentRegistry agents, int initial) {
        List<AgentLink> now = agents.links();
        List<AgentLink> fresh = new ArrayList<>();
        long before;
        synchronized (agentsSeen) {
            before = registrations;
            for (AgentLink link : now) {
                if (agentsSeen.add(link.agentId())) {
                    fresh.add(link);
                }
            }
            agentsSeen.retainAll(now.stream().map(AgentLink::agentId).toList());
            registrations += fresh.size();
        }
        for (AgentLink link : fresh) {
            boolean replacement = ++before > initial;
            events.happened(Event.of(EventKind.AGENT_REGISTERED, link.agentId(), Optional.empty(),
                    Map.of("pid", Integer.toString(link.pid()), "replacement", Boolean.toString(replacement))));
        }
    }

    /** Starts the metrics endpoint if one was asked for. */
    void startEndpoint(TcpSecurity security) throws IOException {
        if (settings.listen().isPresent() && registry.isPresent()) {
            endpoint = Optional.of(MetricsEndpoint.start(settings.listen().get(), security, registry.get()));
        }
    }

    /** The port the metrics endpoint listens on, if it does. */
    Optional<Integer> metricsPort() {
        return endpoint.map(MetricsEndpoint::port);
    }

    @Override
    public void close() {
        endpoint.ifPresent(MetricsEndpoint::close);
    }
}
