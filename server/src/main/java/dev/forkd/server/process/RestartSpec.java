package dev.forkd.server.process;

import java.time.Duration;

/** When and how fast a process is started again after it ends. */
public record RestartSpec(
        Policy policy, Duration initialBackoff, Duration maxBackoff, int maxRestarts, Duration window) {

    public enum Policy { NEVER, ON_FAILURE, ALWAYS }

    public static final RestartSpec NEVER = new RestartSpec(
            Policy.NEVER, Duration.ofMillis(100), Duration.ofSeconds(30), 5, Duration.ofSeconds(60));
}
