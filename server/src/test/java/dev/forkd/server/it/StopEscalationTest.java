package dev.forkd.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.RestartPolicy;
import dev.forkd.v1.RestartSpec;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.SpawnRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A terminate's grace is kept whatever happened to an earlier run: a run stopped by its timeout left
 * its SIGKILL escalation (with the spec's long stop_grace) behind, and the restarted run's terminate
 * then never escalated, so a child that ignores SIGTERM ran on.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StopEscalationTest {

    private static RealServer forkd;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    private static com.google.protobuf.Duration seconds(long s) {
        return com.google.protobuf.Duration.newBuilder().setSeconds(s).build();
    }

    private static ProcessInfo get(String id) {
        return forkd.processes().get(GetProcessRequest.newBuilder().setName(id).build()).getProcess();
    }

    @Test
    void aTerminateAfterARestartEscalatesWithinItsOwnGrace() throws Exception {
        // Run 1 notes the timeout's SIGTERM and ends when told; run 2 ignores SIGTERM.
        String script = "trap 'touch termed' TERM; if [ -e ran ]; then trap '' TERM; touch deaf; exec sleep 1000; fi;"
                + " touch ran; while [ ! -e go ]; do sleep 0.05; done";
        String id = forkd.processes().spawn(SpawnRequest.newBuilder().addArgv("sh").addArgv("-c").addArgv(script)
                .setCwd(dir.toString()).setTimeout(seconds(2)).setStopGrace(seconds(3600))
                .setRestart(RestartSpec.newBuilder().setPolicy(RestartPolicy.RESTART_POLICY_ALWAYS)
                        .setInitialBackoff(com.google.protobuf.Duration.newBuilder().setNanos(10_000_000))
                        .setMaxRestarts(100))
                .build()).getProcess().getId();
        Eventually.await(Duration.ofSeconds(60), () -> Files.exists(dir.resolve("termed")),
                () -> "run 1 never got its timeout's SIGTERM");
        Files.createFile(dir.resolve("go")); // run 1 ends; its escalation (an hour away) must not outlive it
        // Run 2 says when it ignores SIGTERM (before that, a SIGTERM would end it rightly).
        Eventually.await(Duration.ofSeconds(60), () -> Files.exists(dir.resolve("deaf")),
                () -> "run 2 never started: " + get(id));
        assertEquals(1, get(id).getRestartCount());

        forkd.processes().signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_TERMINATE)
                .setGrace(com.google.protobuf.Duration.newBuilder().setNanos(200_000_000)).build());
        ProcessInfo ended = forkd.join(id);
        assertEquals(-9, ended.getExitCode(), "SIGKILL after the terminate's grace: " + ended);
    }
}
