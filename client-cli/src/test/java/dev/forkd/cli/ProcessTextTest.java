package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessTextTest {

    private static ProcessInfo ended(ProcessState state, int exitCode) {
        return ProcessInfo.newBuilder().setId("p-7").setState(state).setExitCode(exitCode).build();
    }

    @Test
    void exitStatusIsTheShells() {
        assertEquals(3, ProcessText.exitStatus(ended(ProcessState.PROCESS_STATE_EXITED, 3)));
        assertEquals(137, ProcessText.exitStatus(ended(ProcessState.PROCESS_STATE_SIGNALED, -9)));
        assertEquals(143, ProcessText.exitStatus(ended(ProcessState.PROCESS_STATE_SIGNALED, -15)));
        assertEquals(127, ProcessText.exitStatus(ended(ProcessState.PROCESS_STATE_FAILED_TO_START, 0)));
    }

    @Test
    void summariesSayHowItEnded() {
        assertEquals("p-7 exited with code 3", ProcessText.summary(ended(ProcessState.PROCESS_STATE_EXITED, 3)));
        assertEquals("p-7 was killed by SIGKILL (signal 9)",
                ProcessText.summary(ended(ProcessState.PROCESS_STATE_SIGNALED, -9)));
        assertEquals("p-7 (web) exited with code 0", ProcessText.summary(
                ended(ProcessState.PROCESS_STATE_EXITED, 0).toBuilder().setName("web").build()));
    }

    @Test
    void anExitALimitCausedSaysWhichLimit() {
        ProcessInfo oom = ended(ProcessState.PROCESS_STATE_SIGNALED, -9).toBuilder()
                .setExitCause(dev.forkd.v1.ExitCause.EXIT_CAUSE_OOM_KILL).build();
        ProcessInfo cpu = ended(ProcessState.PROCESS_STATE_SIGNALED, -24).toBuilder()
                .setExitCause(dev.forkd.v1.ExitCause.EXIT_CAUSE_CPU_LIMIT).build();

        assertEquals("p-7 was killed by SIGKILL (signal 9): the kernel's OOM killer, at its memory limit (memory_max)",
                ProcessText.summary(oom));
        assertEquals("SIGKILL/oom-kill", ProcessText.exitColumn(oom));
        assertEquals("SIGXCPU/cpu-limit", ProcessText.exitColumn(cpu));
        assertEquals("SIGKILL", ProcessText.exitColumn(ended(ProcessState.PROCESS_STATE_SIGNALED, -9)));
    }

    @Test
    void statesReadAsWords() {
        assertEquals("failed-to-start", ProcessText.state(ProcessState.PROCESS_STATE_FAILED_TO_START));
        assertEquals(ProcessState.PROCESS_STATE_SIGNALED, new StateConverter().convert("signalled"));
        assertEquals(ProcessState.PROCESS_STATE_FAILED_TO_START, new StateConverter().convert("failed-to-start"));
        for (String name : new StateConverter()) {
            assertEquals(name, ProcessText.state(new StateConverter().convert(name)));
        }
    }

    @Test
    void commandsAreQuotedForAShell() {
        assertEquals("sh -c 'echo hi; exit 3'", ProcessText.command(List.of("sh", "-c", "echo hi; exit 3")));
        assertEquals("echo 'it'\\''s'", ProcessText.command(List.of("echo", "it's")));
    }

    @Test
    void durationsAreShort() {
        assertEquals("850ms", ProcessText.shortDuration(Duration.ofMillis(850)));
        assertEquals("3m05s", ProcessText.shortDuration(Duration.ofSeconds(185)));
        assertEquals("2h10m", ProcessText.shortDuration(Duration.ofMinutes(130)));
    }

    @Test
    void durationsArePrintedAsTheyAreWritten() {
        assertEquals("100ms", ProcessText.exactDuration(Duration.ofMillis(100)));
        assertEquals("0.25ms", ProcessText.exactDuration(Duration.ofNanos(250_000)));
        assertEquals("2s", ProcessText.exactDuration(Duration.ofSeconds(2)));
        assertEquals("1.5s", ProcessText.exactDuration(Duration.ofMillis(1500)));
        assertEquals("1m30s", ProcessText.exactDuration(Duration.ofSeconds(90)));
        assertEquals("2h", ProcessText.exactDuration(Duration.ofHours(2)));
        assertEquals("1h1s", ProcessText.exactDuration(Duration.ofSeconds(3601)));
        assertEquals("0ms", ProcessText.exactDuration(Duration.ZERO));
        for (String written : List.of("100ms", "1.5s", "1m30s", "2h", "26h3m")) {
            assertEquals(written, ProcessText.exactDuration(DurationConverter.parse(written)));
        }
    }
}
