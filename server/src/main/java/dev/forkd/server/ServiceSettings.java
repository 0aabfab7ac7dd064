package dev.forkd.server;

import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.metrics.MetricsSettings;
import dev.forkd.server.pipe.PipeLimits;
import dev.forkd.server.process.ChildEnvironment;
import dev.forkd.server.queue.QueueLimits;
import dev.forkd.server.shared.SharedStore;
import dev.forkd.server.sync.SyncTable;
import dev.forkd.server.watch.WatchAdmission;
import java.util.Map;

/**
 * The limits and defaults the services are built with: from a {@link ServerConfig} for
 * {@code forkd serve}, smaller ones in tests that want to reach a limit quickly.
 *
 * @param defaultOutputLimit output kept per process unless the spawn asks otherwise
 * @param maxOutputLimit the most output a spawn may ask to keep
 * @param maxProcesses the most process records kept at once
 * @param memoryBudget the most bytes held for clients in all
 * @param maxSessions the most open sessions, each child's included
 * @param maxPools the most pools at once
 * @param cpus a pool's size when the request leaves it unset
 * @param childBaseEnv what every child's environment starts from (never the server's own)
 * @param watches how many process and shared-object watches a session, and the server, may hold open
 * @param agentLiveness the agents' heartbeat and the silence that declares one lost
 * @param metrics whether and where Prometheus metrics are served ({@link MetricsSettings#NONE}: not)
 */
public record ServiceSettings(
        long defaultOutputLimit,
        long maxOutputLimit,
        int maxProcesses,
        long memoryBudget,
        int maxSessions,
        int maxPools,
        int cpus,
        Map<String, String> childBaseEnv,
        QueueLimits queues,
        PipeLimits pipes,
        SyncTable.Limits sync,
        SharedStore.Limits shared,
        WatchAdmission.Limits watches,
        AgentLiveness.Settings agentLiveness,
        MetricsSettings metrics) {

    public ServiceSettings {
        childBaseEnv = Map.copyOf(childBaseEnv);
    }

    /** What {@code forkd serve} runs with: the configured limits, the built-in defaults for the rest. */
    public static ServiceSettings of(ServerConfig config, AgentLiveness.Settings agentLiveness,
            MetricsSettings metrics) {
        return new ServiceSettings(config.defaultOutputLimit(), config.maxOutputLimit(), config.maxProcesses(),
                config.memoryBudget(), 100_000, 1000, Runtime.getRuntime().availableProcessors(),
                ChildEnvironment.BASE, QueueLimits.defaults(), PipeLimits.defaults(), SyncTable.Limits.DEFAULT,
                SharedStore.Limits.DEFAULT, WatchAdmission.Limits.DEFAULT, agentLiveness,
                metrics);
    }
}
