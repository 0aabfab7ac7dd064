package dev.forkd.server;

import java.time.Duration;

/**
 * How the supervisor's agents and children live across its restarts (README "Restarts and
 * durability").
 *
 * @param orphanGrace how long an agent whose supervisor went away keeps its children and dials back
 *     ({@code forkd serve --orphan-grace}); zero: it stops them at once, as before
 * @param agentReturnWait how long a starting supervisor waits for the agents of the previous one
 *     before it declares the processes no agent reported lost ({@code --agent-return-wait})
 * @param keepOnStop whether SIGTERM or Ctrl-C leaves the agents and children running for the next
 *     supervisor ({@code --restart-keep}) instead of stopping them
 */
public record RestartSettings(Duration orphanGrace, Duration agentReturnWait, boolean keepOnStop) {

    // Before DEFAULT, which the constructor checks against it.
    /** An agent's argv carries the grace in milliseconds as an int. */
    static final Duration MAX_ORPHAN_GRACE = Duration.ofDays(7);
    public static final Duration DEFAULT_ORPHAN_GRACE = Duration.ofMinutes(5);
    public static final Duration DEFAULT_AGENT_RETURN_WAIT = Duration.ofSeconds(10);
    public static final RestartSettings DEFAULT = new RestartSettings(DEFAULT_ORPHAN_GRACE,
            DEFAULT_AGENT_RETURN_WAIT, false);

    public RestartSettings {
        if (orphanGrace.isNegative() || orphanGrace.compareTo(MAX_ORPHAN_GRACE) > 0) {
            throw new IllegalArgumentException("the orphan grace must be between 0 and " + MAX_ORPHAN_GRACE.toDays()
                    + " days, not " + orphanGrace);
        }
        if (agentReturnWait.isNegative() || agentReturnWait.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("the wait for agents to come back must be between 0 and 10 minutes, not "
                    + agentReturnWait);
        }
    }
}
