package dev.forkd.server.agent;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Acts on {@link AgentLiveness}: once per heartbeat interval it looks for agents that fell silent,
 * SIGKILLs each (a stopped agent must never resume and act on stale commands), then declares it
 * lost: its processes become LOST and their groups are killed, and the launcher, seeing the agent
 * exit, starts a replacement.
 */
public final class AgentWatchdog implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AgentWatchdog.class.getName());

    private final AgentRegistry registry;
    private final Consumer<String> killAgent;
    private final ScheduledFuture<?> task;

    /** @param killAgent SIGKILLs the agent process with this id */
    public AgentWatchdog(AgentRegistry registry, Consumer<String> killAgent, ScheduledExecutorService timers) {
        this.registry = registry;
        this.killAgent = killAgent;
        long every = registry.liveness().settings().heartbeat().toMillis();
        this.task = timers.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
    }

    /** One look: every silent agent is killed and lost. */
    void check() {
        long limit = registry.liveness().settings().deadAfter().toMillis();
        for (String agentId : registry.liveness().silent()) {
            String cause = "sent nothing for " + limit + " ms (stopped or hung) and was killed";
            LOG.warning(() -> "agent " + agentId + " " + cause);
            killAgent.accept(agentId);
            registry.find(agentId).ifPresent(link -> registry.disconnected(link, cause));
        }
    }

    @Override
    public void close() {
        task.cancel(false);
    }
}
