package dev.forkd.server.agent;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.AgentPool;
import dev.forkd.server.process.AgentPort;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The agents connected now. Hands the least-loaded one to each start; a start that finds none
 * waits, bounded in number and time, for the next to register (at start-up, or while a dead agent
 * is replaced).
 */
public final class AgentRegistry implements AgentPool {

    private static final int MAX_WAITERS = 10_000;

    private final ScheduledExecutorService timers;
    private final Duration waitLimit;
    private final BiConsumer<String, String> onLost;
    private final List<AgentLink> links = new ArrayList<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final List<Runnable> registrationListeners = new ArrayList<>();

    private record Waiter(Consumer<AgentPort> onAgent, Consumer<ForkdException> onFailure,
            ScheduledFuture<?>[] timer) {}

    /** @param onLost called with (agent id, cause) when a registered agent goes away */
    public AgentRegistry(ScheduledExecutorService timers, Duration waitLimit,
            BiConsumer<String, String> onLost) {
        this.timers = timers;
        this.waitLimit = waitLimit;
        this.onLost = onLost;
    }

    @Override
    public void acquire(Consumer<AgentPort> onAgent, Consumer<ForkdException> onFailure) {
        AgentLink chosen;
        synchronized (this) {
            chosen = pick();
            if (chosen == null) {
                if (waiters.size() >= MAX_WAITERS) {
                    onFailure.accept(new ForkdException.ResourceExhausted("AGENT_WAIT_QUEUE_FULL",
                            MAX_WAITERS + " starts are already waiting for an agent"));
                    return;
                }
                ScheduledFuture<?>[] timer = new ScheduledFuture<?>[1];
                Waiter w = new Waiter(onAgent, onFailure, timer);
                waiters.addLast(w);
                timer[0] = timers.schedule(() -> expire(w), waitLimit.toMillis(), TimeUnit.MILLISECONDS);
                return;
            }
        }
        onAgent.accept(chosen);
    }

    private void expire(Waiter w) {
        boolean removed;
        synchronized (this) {
            removed = waiters.remove(w);
        }
        if (removed) {
            w.onFailure().accept(new ForkdException.Unavailable("NO_AGENT",
                    "no worker-agent became available within " + waitLimit.toSeconds() + "s"));
        }
    }

    /** Least loaded agent with room, or null. Call with the monitor held. */
    private AgentLink pick() {
        return links.stream()
                .filter(l -> l.running() < l.capacity())
                .min(Comparator.comparingInt(AgentLink::running))
                .orElse(null);
    }

    /** An agent registered; waiting starts get it. */
    public void register(AgentLink link) {
        List<Waiter> ready = new ArrayList<>();
        List<Runnable> listeners;
        synchronized (this) {
            links.removeIf(l -> l.agentId().equals(link.agentId()));
            links.add(link);
            while (!waiters.isEmpty() && link.running() + ready.size() < link.capacity()) {
                ready.add(waiters.pollFirst());
            }
            listeners = List.copyOf(registrationListeners);
        }
        for (Waiter w : ready) {
            w.timer()[0].cancel(false);
            w.onAgent().accept(link);
        }
        listeners.forEach(Runnable::run);
    }

    /** The agent's stream ended or its process died; its processes are lost. Idempotent. */
    public void disconnected(AgentLink link, String cause) {
        boolean removed;
        synchronized (this) {
            removed = links.remove(link);
        }
        if (removed) {
            onLost.accept(link.agentId(), cause);
        }
    }

    /** The agent process with this id died; if it is still registered, it is lost. */
    public void agentProcessExited(String agentId, String cause) {
        find(agentId).ifPresent(l -> disconnected(l, cause));
    }

    public synchronized Optional<AgentLink> find(String agentId) {
        return links.stream().filter(l -> l.agentId().equals(agentId)).findFirst();
    }

    public synchronized List<AgentLink> links() {
        return List.copyOf(links);
    }

    /** Called after each registration (used to wait for agents at start-up). */
    public synchronized void onRegistration(Runnable listener) {
        registrationListeners.add(listener);
    }
}
