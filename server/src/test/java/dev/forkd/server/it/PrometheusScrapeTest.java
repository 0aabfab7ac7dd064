package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real Prometheus scrapes a real forkd: the series arrive, and change as processes spawn and end,
 * as seen through Prometheus' own query API.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PrometheusScrapeTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    @Test
    void prometheusSeesSpawnsExitsByCauseRunningProcessesAgentsAndRpcCalls() throws Exception {
        ObservedServer forkd = new ObservedServer(1, 0);
        try (RealPrometheus prometheus = new RealPrometheus(forkd.metricsPort())) {
            prometheus.await("up{job=\"forkd\"}", v -> v == 1, LIMIT);
            prometheus.await("forkd_agents", v -> v == 1, LIMIT);
            prometheus.await("sum(forkd_agent_resident_memory_bytes)", v -> v > 1_000_000, LIMIT);
            prometheus.await("forkd_processes{state=\"running\"}", v -> v == 0, LIMIT);

            for (int i = 0; i < 3; i++) {
                ProcessInfo p = forkd.processes().spawn(cmd("sh", "-c", "echo out; exit 3")).getProcess();
                forkd.processes().join(JoinProcessRequest.newBuilder().setName(p.getId()).build());
            }
            ProcessInfo sleeper = forkd.processes().spawn(cmd("sleep", "300")).getProcess();

            prometheus.await("forkd_process_spawns_total", v -> v >= 4, LIMIT);
            prometheus.await("forkd_process_exits_total{cause=\"exited\"}", v -> v >= 3, LIMIT);
            prometheus.await("forkd_processes{state=\"running\"}", v -> v == 1, LIMIT);
            prometheus.await("forkd_processes{state=\"exited\"}", v -> v == 3, LIMIT);
            prometheus.await("forkd_output_captured_bytes_total", v -> v >= 12, LIMIT);
            prometheus.await("forkd_process_spawn_duration_seconds_count", v -> v >= 4, LIMIT);
            prometheus.await("sum(grpc_server_handled_total{grpc_service=\"forkd.v1.ProcessService\","
                    + "grpc_method=\"Spawn\",grpc_code=\"OK\"})", v -> v >= 4, LIMIT);

            forkd.processes().signal(SignalRequest.newBuilder().setName(sleeper.getId())
                    .setKind(SignalKind.SIGNAL_KIND_KILL).build());
            forkd.processes().join(JoinProcessRequest.newBuilder().setName(sleeper.getId()).build());

            prometheus.await("forkd_processes{state=\"running\"}", v -> v == 0, LIMIT);
            prometheus.await("forkd_process_exits_total{cause=\"signaled\"}", v -> v >= 1, LIMIT);
            double jvm = prometheus.await("jvm_threads_current", v -> v > 0, LIMIT);
            assertTrue(jvm > 0);
        } finally {
            forkd.closeLeavingNothing(); // Prometheus has stopped: nothing of the test's own is left
        }
    }

    private static SpawnRequest cmd(String... argv) {
        return SpawnRequest.newBuilder().addAllArgv(List.of(argv)).build();
    }
}
