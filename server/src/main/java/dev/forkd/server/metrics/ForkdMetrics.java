package dev.forkd.server.metrics;

import dev.forkd.server.events.Event;
import dev.forkd.server.events.ServerEvents;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The server's Prometheus metrics (README "Metrics and events"). Counters and histograms follow
 * what the cores report through {@link ServerEvents}; gauges read {@link MetricSources} at scrape
 * time, so they cost nothing between scrapes.
 *
 * <p>Label values are bounded: states, causes, outcomes and lock kinds are closed sets; agents are
 * at most {@code --agents}; a queue or lock gets its own series only for the first
 * {@code perResourceLabels} names (in name order), the rest are summed under {@value #OTHER}.
 */
public final class ForkdMetrics implements ServerEvents {

    /** The label value that sums resources past the per-resource cap. */
    public static final String OTHER = "_other";
    private static final List<String> STATES = List.of("starting", "running", "backoff", "exited", "signaled",
            "failed-to-start", "lost", "fatal");

    private final Counter spawns;
    private final Counter exits;
    private final Counter restarts;
    private final Counter fatals;
    private final Histogram spawnSeconds;
    private final Counter agentLosses;
    private final Counter agentRegistrations;
    private final Counter lockGrants;
    private final Histogram lockWaitSeconds;
    private final Counter barrierBreaks;
    private final Counter queueCloses;
    private final Counter poolTasks;
    private final Counter outputCaptured;
    private final Counter outputDropped;
    private final PrometheusRegistry registry;
    private final int perResourceLabels;

    /**
     * Registers the counters and histograms in {@code registry}; the gauges come with {@link #gauges}.
     *
     * @param perResourceLabels how many queues (and locks) get a series of their own; 0: only totals
     */
    public ForkdMetrics(PrometheusRegistry registry, int perResourceLabels) {
        this.registry = registry;
        this.perResourceLabels = perResourceLabels;
        if (perResourceLabels < 0) {
            throw new IllegalArgumentException("--metrics-per-resource-labels must not be negative");
        }
        spawns = Counter.builder().name("forkd_process_spawns_total")
                .help("Process runs started (a restart is a run)").register(registry);
        exits = Counter.builder().name("forkd_process_exits_total")
                .help("Process runs ended, by cause: exited, signaled, failed_to_start, lost")
                .labelNames("cause").register(registry);
        restarts = Counter.builder().name("forkd_process_restarts_total")
                .help("Process runs started again by a restart policy").register(registry);
        fatals = Counter.builder().name("forkd_process_fatal_total")
                .help("Processes given up as FATAL after too many restarts").register(registry);
        spawnSeconds = Histogram.builder().name("forkd_process_spawn_duration_seconds")
                .help("From a spawn (or restart) to the child running")
                .classicOnly().classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
                .register(registry);
        agentLosses = Counter.builder().name("forkd_agent_losses_total")
                .help("Worker-agents lost (died, disconnected or silent)").register(registry);
        agentRegistrations = Counter.builder().name("forkd_agent_registrations_total")
                .help("Worker-agents registered, at start-up or replacing a lost one").register(registry);
        lockGrants = Counter.builder().name("forkd_lock_grants_total")
                .help("Lock and semaphore grants, by kind and whether the last holder died holding it")
                .labelNames("kind", "abandoned").register(registry);
        lockWaitSeconds = Histogram.builder().name("forkd_lock_wait_seconds")
                .help("How long a granted acquire waited, by kind")
                .classicOnly().classicUpperBounds(0.0001, 0.001, 0.01, 0.1, 1, 10, 60)
                .labelNames("kind").register(registry);
        barrierBreaks = Counter.builder().name("forkd_barrier_breaks_total")
                .help("Barriers broken (timeout, abort, reset with waiters, a party that died)").register(registry);
        queueCloses = Counter.builder().name("forkd_queue_closes_total").help("Queues closed").register(registry);
        poolTasks = Counter.builder().name("forkd_pool_tasks_total")
                .help("Pool tasks ended, by outcome: succeeded, or the failure kind (exit, worker_died, timeout, ...)")
                .labelNames("outcome").register(registry);
        outputCaptured = Counter.builder().name("forkd_output_captured_bytes_total")
                .help("Bytes of child output received").register(registry);
        outputDropped = Counter.builder().name("forkd_output_dropped_bytes_total")
                .help("Bytes of kept output dropped to stay under a log's cap or the memory budget").register(registry);
    }

    /** Registers the gauges, which read {@code sources} at each scrape (once the cores exist). */
    public void gauges(MetricSources sources) {
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("forkd_output_unwritten_bytes_total")
                .help("Bytes of child output not written to the output files (their queue or the memory budget was full)")
                .callback(cb -> cb.call(sources.outputUnwritten().getAsLong())).register(registry);
        GaugeWithCallback.builder().name("forkd_processes").help("Process records by state")
                .labelNames("state").callback(cb -> {
                    Map<String, Integer> counts = sources.processesByState().get();
                    for (String state : STATES) {
                        cb.call(counts.getOrDefault(state, 0), state);
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("forkd_agents").help("Worker-agents connected")
                .callback(cb -> cb.call(sources.agents().get().size())).register(registry);
        GaugeWithCallback.builder().name("forkd_agent_resident_memory_bytes")
                .help("Resident memory of each connected worker-agent (at most --agents series)")
                .labelNames("agent").callback(cb -> {
                    for (MetricSources.Agent a : sources.agents().get()) {
                        ResidentMemory.of(a.pid()).ifPresent(rss -> cb.call(rss, a.id()));
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("forkd_queue_items").help("Items waiting in queues")
                .labelNames("queue").callback(cb -> perResource(sources.queues().get(), MetricSources.Queue::name,
                        MetricSources.Queue::items, perResourceLabels).forEach((q, n) -> cb.call(n, q)))
                .register(registry);
        GaugeWithCallback.builder().name("forkd_queue_in_flight_items")
                .help("Items taken from queues and not yet acknowledged")
                .labelNames("queue").callback(cb -> perResource(sources.queues().get(), MetricSources.Queue::name,
                        MetricSources.Queue::inFlight, perResourceLabels).forEach((q, n) -> cb.call(n, q)))
                .register(registry);
        GaugeWithCallback.builder().name("forkd_lock_waiters").help("Callers waiting to acquire locks and semaphores")
                .labelNames("lock").callback(cb -> perResource(sources.locks().get(), MetricSources.Lock::name,
                        MetricSources.Lock::waiters, perResourceLabels).forEach((l, n) -> cb.call(n, l)))
                .register(registry);
    }

    /**
     * Values by resource name for the first {@code cap} names in order, the rest summed under
     * {@value #OTHER} (always present, so a total exists even with no resources).
     */
    static <T> Map<String, Long> perResource(List<T> all, Function<T, String> name, ToLongFunction<T> value, int cap) {
        Map<String, Long> out = new TreeMap<>();
        long other = 0;
        List<T> sorted = all.stream().sorted(Comparator.comparing(name)).toList();
        for (int i = 0; i < sorted.size(); i++) {
            T t = sorted.get(i);
            if (i < cap) {
                out.merge(name.apply(t), value.applyAsLong(t), Long::sum);
            } else {
                other += value.applyAsLong(t);
            }
        }
        out.put(OTHER, other);
        return out;
    }

    @Override
    public void happened(Event e) {
        switch (e.kind()) {
            case PROCESS_STARTED -> {
                spawns.inc();
                if (!"0".equals(e.attributes().get("run"))) {
                    restarts.inc();
                }
                e.duration().ifPresent(d -> spawnSeconds.observe(d.toNanos() / 1e9));
            }
            case PROCESS_EXITED -> {
                // A process stopped while backing off reports its last end again: counted once, before.
                if (!e.attributes().containsKey("restart")) {
                    exits.labelValues(cause(e)).inc();
                }
            }
            case PROCESS_RESTARTING -> exits.labelValues(cause(e)).inc();
            case PROCESS_FATAL -> {
                exits.labelValues(cause(e)).inc();
                fatals.inc();
            }
            case AGENT_REGISTERED -> agentRegistrations.inc();
            case AGENT_LOST -> agentLosses.inc();
            case LOCK_GRANTED -> {
                String kind = e.attributes().getOrDefault("lock_kind", "lock");
                lockGrants.labelValues(kind, e.attributes().getOrDefault("abandoned", "false")).inc();
                e.duration().ifPresent(d -> lockWaitSeconds.labelValues(kind).observe(d.toNanos() / 1e9));
            }
            case BARRIER_BROKEN -> barrierBreaks.inc();
            case QUEUE_CLOSED -> queueCloses.inc();
            case POOL_TASK_FAILED -> { } // counted by poolTaskEnded, with the successes
        }
    }

    private static String cause(Event e) {
        return e.attributes().getOrDefault("cause", "other");
    }

    @Override
    public void outputCaptured(long bytes, long dropped) {
        outputCaptured.inc(bytes);
        if (dropped > 0) {
            outputDropped.inc(dropped);
        }
    }

    @Override
    public void poolTaskEnded(String outcome) {
        poolTasks.labelValues(outcome).inc();
    }
}
