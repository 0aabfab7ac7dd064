package dev.forkd.server.it;

import static dev.forkd.server.testing.ErrorDetails.field;
import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.v1.ExitCause;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ResourceLimits;
import dev.forkd.v1.SpawnRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** rlimits applied in real children before their program runs, and cgroup limits refused where absent. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ResourceLimitsTest {

    private static RealServer forkd;

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
    }

    private static ProcessInfo run(ResourceLimits limits, String script) {
        ProcessInfo p = forkd.processes().spawn(SpawnRequest.newBuilder()
                .addAllArgv(List.of("sh", "-c", script)).setLimits(limits).build()).getProcess();
        return forkd.processes().join(JoinProcessRequest.newBuilder().setName(p.getId()).build()).getProcess();
    }

    @Test
    void busyLoopPastItsCpuSecondsEndsWithCpuLimitCause() {
        ProcessInfo ended = run(ResourceLimits.newBuilder().setCpuSeconds(1).build(), "while :; do :; done");

        assertEquals(-24, ended.getExitCode(), "SIGXCPU at RLIMIT_CPU: " + ended);
        assertEquals(ExitCause.EXIT_CAUSE_CPU_LIMIT, ended.getExitCause());
        assertEquals(1, ended.getLimits().getCpuSeconds());
    }

    @Test
    void childAtItsOpenFilesLimitCannotOpenMore() {
        // With fds 0-4 taken under RLIMIT_NOFILE=5, cat cannot even open libc (EMFILE): the dynamic
        // loader gives up with 127. The same script without the limit runs cat fine.
        String script = "test \"$(ulimit -n)\" = 5 || exit 3; exec 3</dev/null 4</dev/null; exec cat /dev/null";
        ProcessInfo limited = run(ResourceLimits.newBuilder().setOpenFiles(5).build(), script);
        ProcessInfo free = run(ResourceLimits.getDefaultInstance(), "exec 3</dev/null 4</dev/null; exec cat /dev/null");

        assertEquals(127, limited.getExitCode(), "cat under RLIMIT_NOFILE=5 with 5 fds open: " + limited);
        assertEquals(0, free.getExitCode(), "the same without the limit: " + free);
        assertEquals(ExitCause.EXIT_CAUSE_UNSPECIFIED, limited.getExitCause());
    }

    @Test
    void limitsApplyToTheProgramItselfSamePid() {
        ProcessInfo ended = run(ResourceLimits.newBuilder().setCoreBytes(0).setAddressSpaceBytes(1L << 32).build(),
                "test \"$(ulimit -c)\" = 0 && test \"$(ulimit -v)\" = 4194304 && test \"$$\" = \"$(cut -d' ' -f5 /proc/self/stat)\"");

        assertEquals(0, ended.getExitCode(), "limits seen by the program, in its own process group: " + ended);
    }

    @Test
    void cgroupLimitWhereCgroupsAreNotDelegatedIsRefusedNamingWhatIsMissing() {
        int before = forkd.processes().list(ListProcessesRequest.getDefaultInstance()).getProcessesCount();

        var e = assertThrows(StatusRuntimeException.class, () -> forkd.processes().spawn(SpawnRequest.newBuilder()
                .addAllArgv(List.of("true")).setLimits(ResourceLimits.newBuilder().setMemoryMaxBytes(64L << 20))
                .build()));

        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertEquals("CGROUPS_UNAVAILABLE", reason(e));
        assertTrue(e.getStatus().getDescription().contains("cgroup"), e.getStatus().getDescription());
        assertEquals(before, forkd.processes().list(ListProcessesRequest.getDefaultInstance()).getProcessesCount(),
                "a refused spawn leaves nothing behind");
    }

    @Test
    void limitOutOfRangeIsInvalidArgumentNamingTheField() {
        var e = assertThrows(StatusRuntimeException.class, () -> forkd.processes().spawn(SpawnRequest.newBuilder()
                .addAllArgv(List.of("true")).setLimits(ResourceLimits.newBuilder().setOpenFiles(0)).build()));

        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("limits.open_files", field(e));
    }
    @Test
    void poolWorkersRunUnderTheWorkerLimits() {
        var pools = dev.forkd.v1.PoolServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        var pool = pools.create(dev.forkd.v1.CreatePoolRequest.newBuilder().setProcesses(1)
                .setWorker(dev.forkd.v1.WorkerSpec.newBuilder().setKind(dev.forkd.v1.WorkerKind.WORKER_KIND_PER_TASK)
                        .addAllArgv(List.of("sh", "-c", "echo {} $(ulimit -n)"))
                        .setLimits(ResourceLimits.newBuilder().setOpenFiles(17)))
                .build()).getPool();
        try {
            var r = pools.apply(dev.forkd.v1.ApplyRequest.newBuilder().setName(pool.getId())
                    .setInput(MapCall.item(1)).build()).getResult();

            assertEquals("1 17", r.getOutput().toStringUtf8().strip(), r.toString());
        } finally {
            pools.terminate(dev.forkd.v1.TerminatePoolRequest.newBuilder().setName(pool.getId()).build());
        }
    }
}
