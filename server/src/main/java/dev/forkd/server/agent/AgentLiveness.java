package dev.forkd.server.agent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Which agents have fallen silent. Every message from an agent (its heartbeats, at
 * {@link Settings#heartbeat()}, and its events) counts as a sign of life; an agent not heard from
 * for {@link Settings#deadAfter()} is stopped (SIGSTOP), hung, or cut off, and is reported once by
 * {@link #silent()}. Plain Java on an injected monotonic clock, so the decision is testable.
 */
public final class AgentLiveness {

    /**
     * @param heartbeat how often agents send a heartbeat, and how often silence is checked
     * @param deadAfter how long an agent may be silent before it is declared lost
     */
    public record Settings(Duration heartbeat, Duration deadAfter) {
        // Before DEFAULT, which the constructor checks against them.
        /** Slower beats than this leave a stopped agent's work waiting longer than any client would. */
        public static final Duration MAX_HEARTBEAT = Duration.ofMinutes(1);
        public static final Duration MAX_DEAD_AFTER = Duration.ofHours(1);

        /**
         * A heartbeat a second; lost after 10 s of silence. Ten missed beats: long enough that a
         * full GC or a loaded 2-core machine does not kill a healthy agent, short enough that work
         * sent to a stopped one fails or moves on well within a client's patience.
         */
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(1), Duration.ofSeconds(10));

        public Settings {
            if (heartbeat.compareTo(MAX_HEARTBEAT) > 0 || deadAfter.compareTo(MAX_DEAD_AFTER) > 0) {
                throw new IllegalArgumentException("the heartbeat may be at most " + MAX_HEARTBEAT.toSeconds()
                        + " s and the silence that declares an agent lost at most " + MAX_DEAD_AFTER.toSeconds()
                        + " s (heartbeat " + heartbeat + ", lost after " + deadAfter + ")");
            }
            if (heartbeat.isNegative() || heartbeat.isZero() || deadAfter.compareTo(heartbeat.multipliedBy(2)) < 0) {
                throw new IllegalArgumentException("the heartbeat must be positive and at most half of the"
                        + " silence that declares an agent lost (heartbeat " + heartbeat + ", lost after " + deadAfter + ")");
            }
        }
    }

    private final Settings settings;
    private final LongSupplier nanoClock;
    /** Agent id to when it was last heard from; bounded by the number of registered agents. */
    private final Map<String, Long> lastHeard = new ConcurrentHashMap<>();
    /** When {@link #silent()} last looked; guarded by this. */
    private long lastLook = Long.MIN_VALUE;

    public AgentLiveness(Settings settings, LongSupplier nanoClock) {
        this.settings = settings;
        this.nanoClock = nanoClock;
    }

    public Settings settings() {
        return settings;
    }

    /** An agent registered: from now on it must be heard from. */
    public void watch(String agentId) {
        lastHeard.put(agentId, nanoClock.getAsLong());
    }

    /** A message came from the agent. Ignored for an agent not (or no longer) watched. */
    public void heard(String agentId) {
        lastHeard.computeIfPresent(agentId, (id, last) -> nanoClock.getAsLong());
    }

    /** The agent went away by other means; stop watching it. */
    public void forget(String agentId) {
        lastHeard.remove(agentId);
    }

    /**
     * Agents silent for longer than the limit, each reported once (it is no longer watched). Meant
     * to be called once per heartbeat interval. If the previous look is more than two intervals
     * old, the supervisor itself was paused (a long GC, a stopped JVM): the agents' heartbeats may
     * be waiting unread in its sockets, so this look judges nobody and the next one does.
     */
    public synchronized List<String> silent() {
        long now = nanoClock.getAsLong();
        long previous = lastLook;
        lastLook = now;
        if (previous != Long.MIN_VALUE && now - previous > 2 * settings.heartbeat().toNanos()) {
            return List.of();
        }
        long limit = settings.deadAfter().toNanos();
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Long> e : lastHeard.entrySet()) {
            if (now - e.getValue() > limit && lastHeard.remove(e.getKey(), e.getValue())) {
                out.add(e.getKey());
            }
        }
        return out;
    }
}
