package dev.forkd.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.events.Event;
import dev.forkd.server.events.EventKind;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ForkdMetricsTest {

    private static String scrape(PrometheusRegistry registry) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void queuesPastThePerResourceCapAreSummedUnderOtherSoUserNamesCannotGrowTheSeries() throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        ForkdMetrics metrics = new ForkdMetrics(registry, 2);
        List<MetricSources.Queue> queues = List.of(new MetricSources.Queue("c", 5, 1),
                new MetricSources.Queue("a", 1, 0), new MetricSources.Queue("b", 2, 0),
                new MetricSources.Queue("d", 7, 3));
        metrics.gauges(new MetricSources(Map::of, List::of, () -> queues, List::of));
        String text = scrape(registry);
        assertTrue(text.contains("forkd_queue_items{queue=\"a\"} 1"), text);
        assertTrue(text.contains("forkd_queue_items{queue=\"b\"} 2"), text);
        assertTrue(text.contains("forkd_queue_items{queue=\"_other\"} 12"), text);
        assertFalse(text.contains("queue=\"c\""), text);
        assertTrue(text.contains("forkd_queue_in_flight_items{queue=\"_other\"} 4"), text);

        PrometheusRegistry totals = new PrometheusRegistry();
        new ForkdMetrics(totals, 0).gauges(new MetricSources(Map::of, List::of, () -> queues, List::of));
        String onlyTotals = scrape(totals);
        assertTrue(onlyTotals.contains("forkd_queue_items{queue=\"_other\"} 15"), onlyTotals);
        assertFalse(onlyTotals.contains("queue=\"a\""), onlyTotals);
    }

    @Test
    void processEventsCountSpawnsExitsByCauseRestartsAndFatalsOnce() throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        ForkdMetrics metrics = new ForkdMetrics(registry, 0);
        metrics.gauges(new MetricSources(() -> Map.of("running", 2), List::of, List::of, List::of, () -> 7));
        metrics.happened(started("0"));
        metrics.happened(ended(EventKind.PROCESS_RESTARTING, "exited", Map.of()));
        metrics.happened(started("1"));
        metrics.happened(ended(EventKind.PROCESS_FATAL, "signaled", Map.of()));
        metrics.happened(ended(EventKind.PROCESS_EXITED, "lost", Map.of()));
        // A process stopped while backing off repeats its last end: not a second exit.
        metrics.happened(ended(EventKind.PROCESS_EXITED, "exited", Map.of("restart", "cancelled")));
        metrics.outputCaptured(100, 40);
        metrics.poolTaskEnded("succeeded");
        String text = scrape(registry);
        assertTrue(text.contains("forkd_process_spawns_total 2.0"), text);
        assertTrue(text.contains("forkd_process_restarts_total 1.0"), text);
        assertTrue(text.contains("forkd_process_fatal_total 1.0"), text);
        assertTrue(text.contains("forkd_process_exits_total{cause=\"exited\"} 1.0"), text);
        assertTrue(text.contains("forkd_process_exits_total{cause=\"signaled\"} 1.0"), text);
        assertTrue(text.contains("forkd_process_exits_total{cause=\"lost\"} 1.0"), text);
        assertTrue(text.contains("forkd_process_spawn_duration_seconds_count 2"), text);
        assertTrue(text.contains("forkd_processes{state=\"running\"} 2"), text);
        assertTrue(text.contains("forkd_processes{state=\"fatal\"} 0"), text);
        assertTrue(text.contains("forkd_output_captured_bytes_total 100.0"), text);
        assertTrue(text.contains("forkd_output_dropped_bytes_total 40.0"), text);
        assertTrue(text.contains("forkd_output_unwritten_bytes_total 7.0"), text);
        assertTrue(text.contains("forkd_pool_tasks_total{outcome=\"succeeded\"} 1.0"), text);
    }

    private static Event started(String run) {
        return new Event(EventKind.PROCESS_STARTED, "p-1", Optional.empty(), Map.of(), Map.of("run", run),
                Optional.of(java.time.Duration.ofMillis(3)), Optional.empty(), Optional.empty());
    }

    private static Event ended(EventKind kind, String cause, Map<String, String> more) {
        var attributes = new java.util.HashMap<>(more);
        attributes.put("cause", cause);
        return Event.of(kind, "p-1", Optional.empty(), attributes);
    }
}
