package dev.forkd.server.agent;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.function.LongSupplier;

/**
 * The starting supervisor's wait for the agents of the previous one: done once each adopted agent
 * has registered again or its process has ended, so that a restart where every agent comes back at
 * once does not wait out the whole limit.
 */
public final class AgentReturn {

    private final AgentRegistry registry;
    private final LongSupplier nanoTime;
    private final Set<String> missing = new TreeSet<>();
    /** Awaited agents whose process ended before they came back. */
    private int ended;
    private final CountDownLatch allBack = new CountDownLatch(1);
    private int awaited;
    private long waitStarted;
    private long lastBack;

    /** @param nanoTime the clock the wait is timed on ({@code System::nanoTime}; tests may fake it) */
    public AgentReturn(AgentRegistry registry, LongSupplier nanoTime) {
        this.registry = registry;
        this.nanoTime = nanoTime;
        registry.onRegistration(this::look);
    }

    /** Starts waiting for these agents. */
    public void await(List<String> agentIds) {
        synchronized (this) {
            missing.addAll(agentIds);
            awaited = agentIds.size();
            waitStarted = nanoTime.getAsLong();
            lastBack = waitStarted;
        }
        look();
    }

    /**
     * For the server's "listening" line, when it waited for agents: how long they took to come back,
     * and how long after the last one it serves ({@code servingAt}, on the same clock). The second
     * figure is the restart's own cost once its agents are there (issue 13's recovery target).
     */
    public synchronized Optional<String> summary(long servingAt) {
        if (awaited == 0) {
            return Optional.empty();
        }
        int back = awaited - ended - missing.size();
        String notBack = (ended == 0 ? "" : ", " + ended + " ended first")
                + (missing.isEmpty() ? "" : ", " + missing.size() + " never came back");
        return Optional.of(String.format(Locale.ROOT,
                "%d of %d agent%s of the previous supervisor back after %.2f s%s; serving %.2f s after the last came back",
                back, awaited, awaited == 1 ? "" : "s", (lastBack - waitStarted) / 1e9, notBack,
                (servingAt - lastBack) / 1e9));
    }

    /** The agent's process ended: it will not come back. */
    public void gone(String agentId) {
        synchronized (this) {
            if (missing.remove(agentId)) {
                ended++;
            }
        }
        look();
    }

    private void look() {
        boolean none;
        synchronized (this) {
            boolean some = missing.removeIf(id -> registry.find(id).isPresent());
            if (some) {
                lastBack = nanoTime.getAsLong();
            }
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
