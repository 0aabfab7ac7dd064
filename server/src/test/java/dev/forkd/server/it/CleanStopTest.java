package dev.forkd.server.it;

import dev.forkd.v1.SpawnRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server that stops cleanly leaves nothing it started running, not even a descendant that left
 * its child's group. A class of its own: the check covers every child of this JVM, so no other
 * server may be running beside it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CleanStopTest {

    @Test
    void aCleanStopLeavesNoEscapedDescendantBehind() throws Exception {
        RealServer forkd = new RealServer(1);
        try {
            // The subshell that starts it ends at once, so the escaped sleep is the agent's orphan
            // while its leader still runs: only the stop can find it.
            forkd.processes().spawn(SpawnRequest.newBuilder().addAllArgv(
                    List.of("sh", "-c", "(setsid sleep 780 &); sleep 1000")).build());
            Eventually.await(Duration.ofSeconds(10), () -> !Agents.running("sleep", "780").isEmpty(),
                    () -> "not started");
        } finally {
            forkd.closeLeavingNothing();
        }
        Eventually.await(Duration.ofSeconds(10), () -> Agents.running("sleep", "780").isEmpty(),
                () -> "left running after the server stopped: " + Agents.running("sleep", "780"));
    }
}
