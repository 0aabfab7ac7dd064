package dev.forkd.server.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The silence decision on a fake clock: who is declared lost, when, and only once. */
class AgentLivenessTest {

    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong now = new AtomicLong(1_000 * SECOND);
    private final AgentLiveness liveness = new AgentLiveness(
            new AgentLiveness.Settings(Duration.ofSeconds(1), Duration.ofSeconds(10)), now::get);

    /** Advances the clock second by second, looking once a second as the watchdog does. */
    private List<String> looksFor(int seconds) {
        List<String> lost = new java.util.ArrayList<>();
        for (int i = 0; i < seconds; i++) {
            now.addAndGet(SECOND);
            lost.addAll(liveness.silent());
        }
        return lost;
    }

    @Test
    void anAgentSilentPastTheLimitIsLostOnceAndOnlyThen() {
        liveness.watch("a-1");
        assertEquals(List.of(), looksFor(10), "10 s of silence is still within the limit");
        assertEquals(List.of("a-1"), looksFor(1));
        assertEquals(List.of(), looksFor(30), "reported once");
    }

    @Test
    void everyMessageCountsAsLife() {
        liveness.watch("a-1");
        liveness.watch("a-2");
        List<String> lost = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) {
            liveness.heard("a-1");
            lost.addAll(looksFor(1));
        }
        assertEquals(List.of("a-2"), lost);
    }

    @Test
    void aForgottenOrUnknownAgentIsNeverReported() {
        liveness.watch("a-1");
        liveness.forget("a-1");
        liveness.heard("a-9"); // not watched: does not start being watched
        assertEquals(List.of(), looksFor(60));
    }

    @Test
    void aLookThatComesLateJudgesNobody() {
        // The supervisor itself was paused for 30 s: the agents' heartbeats wait unread in its
        // sockets, so silence measured across the pause proves nothing.
        liveness.watch("a-1");
        liveness.silent();
        now.addAndGet(30 * SECOND);
        assertEquals(List.of(), liveness.silent());
        liveness.heard("a-1"); // the backlog is read
        assertEquals(List.of(), looksFor(10));
        assertEquals(List.of("a-1"), looksFor(1));
    }

    @Test
    void theHeartbeatMustFitTwiceIntoTheLimit() {
        assertThrows(IllegalArgumentException.class,
                () -> new AgentLiveness.Settings(Duration.ofSeconds(6), Duration.ofSeconds(10)));
        assertThrows(IllegalArgumentException.class,
                () -> new AgentLiveness.Settings(Duration.ZERO, Duration.ofSeconds(10)));
    }
}
