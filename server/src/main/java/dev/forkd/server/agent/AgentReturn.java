package dev.forkd.server.agent;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;

/**
 * The starting supervisor's wait for the agents of the previous one: done once each adopted agent
 * has registered again or its process has ended, so that a restart where every agent comes back at
 * once does not wait out the whole limit.
 */
public final class AgentReturn {

    private final AgentRegistry registry;
    private final Set<String> missing = new TreeSet<>();
    private final CountDownLatch allBack = new CountDownLatch(1);

    public AgentReturn(AgentRegistry registry) {
        this.registry = registry;
        registry.onRegistration(this::look);
    }

    /** Starts waiting for these agents. */
    public void await(List<String> agentIds) {
        synchronized (this) {
            missing.addAll(agentIds);
        }
        look();
    }

    /** The agent's process ended: it will not come back. */
    public void gone(String agentId) {
        synchronized (this) {
            missing.remove(agentId);
        }
        look();
    }

    private void look() {
        boolean none;
        synchronized (this) {
            missing.removeIf(id -> registry.find(id).isPresent());
            none = missing.isEmpty();
        }
        if (none) {
            allBack.countDown();
        }
    }

    /** Opens once no awaited agent is missing. */
    public CountDownLatch allBack() {
        return allBack;
    }

    public synchronized Set<String> missing() {
        return Set.copyOf(missing);
    }
}
