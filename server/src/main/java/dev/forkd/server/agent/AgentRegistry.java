package dev.forkd.server.agent;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.AgentPool;
import dev.forkd.server.process.AgentPort;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The agents connected now. Hands each start a slot on the least-loaded agent, picked and reserved
 * in one step (so capacity is never overshot); a start that finds no free slot waits, bounded in
 * number and time, until one frees: a child ends, a reserved slot goes unused, or an agent
 * registers. Admits only agents the supervisor launched, each once, with the secret of its id.
 */
public final class AgentRegistry implements AgentPool {

    private static final int MAX_WAITERS = 10_000;

    private final ScheduledExecutorService timers;
    private final Duration waitLimit;
    private final BiConsumer<String, String> onLost;
    private final AgentCredentials credentials;
    private final AgentLiveness liveness;
    private final List<AgentLink> links = new ArrayList<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final List<Runnable> registrationListeners = new ArrayList<>();
    private final List<Consumer<Boolean>> availabilityListeners = new ArrayList<>();
    private volatile boolean leaving;

    private record Waiter(Consumer<AgentPort> onAgent, Consumer<ForkdException> onFailure,
            ScheduledFuture<?>[] timer) {}

    /** A registration the registry refuses; the stream is closed with it. */
    public static final class Refused extends RuntimeException {
        private final AgentCredentials.Refusal refusal;

        Refused(AgentCredentials.Refusal refusal, String message) {
            super(message, null, false, false);
            this.refusal = refusal;
        }

        public AgentCredentials.Refusal refusal() {
            return refusal;
        }
    }

    /** @param onLost called with (agent id, cause) when a registered agent goes away */
    public AgentRegistry(ScheduledExecutorService timers, Duration waitLimit,
            BiConsumer<String, String> onLost, AgentCredentials credentials, AgentLiveness liveness) {
        this.timers = timers;
        this.waitLimit = waitLimit;
        this.onLost = onLost;
        this.credentials = credentials;
        this.liveness = liveness;
    }

    public AgentLiveness liveness() {
        return liveness;
    }

    @Override
    public void acquire(Consumer<AgentPort> onAgent, Consumer<ForkdException> onFailure) {
        AgentLink chosen;
        synchronized (this) {
            chosen = reserve();
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
        hand(chosen, onAgent);
    }

    /** Gives a reserved slot to a start; a slot the start did not use is freed again. */
    private void hand(AgentLink link, Consumer<AgentPort> onAgent) {
        Slot slot = new Slot(link);
        try {
            onAgent.accept(slot);
        } finally {
            if (!slot.used) {
                slotFreed(link);
            }
        }
        if (slot.used && !isRegistered(link)) {
            // Lost between the reservation and the start: the loss may have looked for this
            // agent's processes before this one was on it, so it is told again (idempotent).
            onLost.accept(link.agentId(), "went away as a start was sent to it");
        }
    }

    private synchronized boolean isRegistered(AgentLink link) {
        return links.contains(link);
    }

    private void expire(Waiter w) {
        boolean removed;
        synchronized (this) {
            removed = waiters.remove(w);
        }
        if (removed) {
            w.onFailure().accept(new ForkdException.Unavailable("NO_AGENT",
                    "no worker-agent had room within " + waitLimit.toSeconds() + "s"));
        }
    }

    /** Reserves a slot on the least-loaded agent with room, or returns null. Monitor held. */
    private AgentLink reserve() {
        AgentLink best = null;
        for (AgentLink l : links) {
            if (l.slotsTaken() < l.capacity() && (best == null || l.slotsTaken() < best.slotsTaken())) {
                best = l;
            }
        }
        if (best != null) {
            best.tryReserve();
        }
        return best;
    }

    /**
     * An agent opened its stream and says who it is: admitted if the supervisor launched it, with
     * that id's secret, and it has not registered before. Waiting starts get its slots.
     *
     * @throws Refused otherwise; the live agent of that id, if any, is untouched
     */
    public void register(AgentLink link, String secret) {
        register(link, secret, () -> 0);
    }

    /**
     * {@link #register(AgentLink, String)}, where {@code onAdmitted} runs once the agent is admitted
     * and before it takes work: it claims the children the agent brings back from before a
     * supervisor restart, and returns how many, each of which holds one of its slots.
     */
    public void register(AgentLink link, String secret, java.util.function.IntSupplier onAdmitted) {
        Optional<AgentCredentials.Refusal> refusal = credentials.admit(link.agentId(), link.pid(), secret);
        if (refusal.isPresent()) {
            throw new Refused(refusal.get(), switch (refusal.get()) {
                case UNKNOWN_AGENT -> "no agent \"" + link.agentId() + "\" was launched by this supervisor";
                case WRONG_SECRET -> "the secret for agent \"" + link.agentId() + "\" is wrong";
                case WRONG_PID -> "agent \"" + link.agentId() + "\" was launched with another pid";
                case ALREADY_REGISTERED -> "agent \"" + link.agentId() + "\" has registered already";
            });
        }
        int adopted = onAdmitted.getAsInt();
        List<Runnable> listeners;
        boolean becameAvailable;
        synchronized (this) {
            for (int i = 0; i < adopted; i++) {
                link.tryReserve();
            }
            becameAvailable = links.isEmpty();
            links.add(link);
            liveness.watch(link.agentId());
            listeners = List.copyOf(registrationListeners);
        }
        if (becameAvailable) {
            availability(true);
        }
        handOutSlots(link);
        listeners.forEach(Runnable::run);
    }

    /** A child the agent brought back from before a restart was claimed by its event: it holds a slot. */
    public synchronized void childAdopted(AgentLink link) {
        link.tryReserve();
    }

    /** A child on {@code link} ended (or failed to start): its slot goes to a waiting start. */
    public void childEnded(AgentLink link) {
        slotFreed(link);
    }

    private void slotFreed(AgentLink link) {
        synchronized (this) {
            link.freeSlot();
        }
        handOutSlots(link);
    }

    private void handOutSlots(AgentLink link) {
        while (true) {
            Waiter w;
            synchronized (this) {
                if (waiters.isEmpty() || !links.contains(link) || !link.tryReserve()) {
                    return;
                }
                w = waiters.pollFirst();
            }
            w.timer()[0].cancel(false);
            hand(link, w.onAgent());
        }
    }

    /**
     * The supervisor exits leaving its agents and their children for the next one: the streams that
     * end from now on are not losses (nothing is marked lost or killed).
     */
    public void leaveAgents() {
        leaving = true;
    }

    /** The agent's stream ended, its process died, or it fell silent: its processes are lost. Idempotent. */
    public void disconnected(AgentLink link, String cause) {
        if (leaving) {
            return;
        }
        boolean removed;
        boolean none;
        synchronized (this) {
            removed = links.remove(link);
            none = links.isEmpty();
            link.markLost();
        }
        if (removed) {
            liveness.forget(link.agentId());
            if (none) {
                availability(false);
            }
            onLost.accept(link.agentId(), cause);
        }
    }

    /** The agent process with this id died; if it is still registered, it is lost. */
    public void agentProcessExited(String agentId, String cause) {
        credentials.forget(agentId);
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

    /**
     * Called with true when the first agent that can take work registers, false when the last
     * one goes away (health follows it), and at once with the state now.
     */
    public synchronized void onAvailability(Consumer<Boolean> listener) {
        availabilityListeners.add(listener);
        listener.accept(!links.isEmpty());
    }

    /** Listeners run under the monitor, so the last change is the one they are left with. */
    private synchronized void availability(boolean available) {
        // Re-read: a registration and a loss may race; only a real change is told.
        if (available == !links.isEmpty()) {
            availabilityListeners.forEach(l -> l.accept(available));
        }
    }

    /** A reserved slot on one agent, handed to one start. */
    private static final class Slot implements AgentPort {
        private final AgentLink link;
        private boolean used;

        Slot(AgentLink link) {
            this.link = link;
        }

        @Override
        public String agentId() {
            return link.agentId();
        }

        @Override
        public void start(StartCommand command) {
            used = true;
            link.start(command);
        }

        @Override
        public void signal(String processId, int run, int signal) {
            link.signal(processId, run, signal);
        }

        @Override
        public void holdOutput(String processId, int run, boolean hold) {
            link.holdOutput(processId, run, hold);
        }

        @Override
        public void writeStdin(String processId, int run, byte[] data, boolean close) {
            link.writeStdin(processId, run, data, close);
        }
    }
}
