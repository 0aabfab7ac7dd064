package dev.forkd.server.it;

import static dev.forkd.server.testing.ErrorDetails.field;
import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.limits.Cgroups;
import dev.forkd.server.testing.FileEvents;
import dev.forkd.v1.ExitCause;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ResourceLimits;
import dev.forkd.v1.SpawnRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * rlimits applied in real children before their program runs; cgroup limits enforced on real
 * children where the host has cgroups forkd can use (v2 delegated, or v1 writable), and refused
 * naming what is missing where it has none. Each cgroup test says which branch ran.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ResourceLimitsTest {

    private static RealServer forkd;
    /** What this host lacks for cgroup limits (probed only: nothing is made); empty where they work. */
    private static final Optional<String> CGROUPS_MISSING = Cgroups.host("probe").missing(
            new dev.forkd.server.limits.ResourceLimits(java.util.OptionalLong.empty(), java.util.OptionalLong.empty(),
                    java.util.OptionalLong.empty(), java.util.OptionalLong.empty(), java.util.OptionalLong.empty(),
                    java.util.OptionalLong.of(1L << 20), java.util.OptionalDouble.of(1), java.util.OptionalLong.of(1)));
    /** The cgroups the children were in: none of them may be left once their run ended, nor their parents at stop. */
    private static final List<Path> CHILD_CGROUPS = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        forkd = new RealServer(1);
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.closeLeavingNothing();
        for (Path cgroup : CHILD_CGROUPS) {
            assertTrue(!Files.exists(cgroup) && !Files.exists(cgroup.getParent()),
                    "the server's stop removed its cgroups: " + cgroup.getParent());
        }
    }

    /** Where cgroups work, {@code real}; where not, the spawn is refused naming what is missing. */
    private static void onCgroups(ResourceLimits limits, Runnable real) {
        if (CGROUPS_MISSING.isEmpty()) {
            System.out.println("cgroup branch: this host has cgroups forkd can use; enforcing for real");
            real.run();
            return;
        }
        System.out.println("cgroup branch: no usable cgroups here (" + CGROUPS_MISSING.get() + "); expecting refusal");
        int before = forkd.processes().list(ListProcessesRequest.getDefaultInstance()).getProcessesCount();
        var e = assertThrows(StatusRuntimeException.class, () -> forkd.processes().spawn(SpawnRequest.newBuilder()
                .addAllArgv(List.of("true")).setLimits(limits).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertEquals("CGROUPS_UNAVAILABLE", reason(e));
        assertTrue(e.getStatus().getDescription().contains(CGROUPS_MISSING.get()), e.getStatus().getDescription());
        assertEquals(before, forkd.processes().list(ListProcessesRequest.getDefaultInstance()).getProcessesCount(),
                "a refused spawn leaves nothing behind");
    }

    /**
     * The cgroup directory of {@code controller} in what a child printed of {@code /proc/self/cgroup}:
     * its v1 line for that controller, else its v2 line.
     */
    private static Path cgroupOf(String procSelfCgroup, String controller) {
        String v2 = null;
        for (String line : procSelfCgroup.strip().split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && List.of(f[1].split(",")).contains(controller)) {
                return Path.of("/sys/fs/cgroup/" + controller + f[2]);
            }
            if (f.length == 3 && f[0].equals("0")) {
                v2 = f[2];
            }
        }
        if (v2 == null) {
            throw new AssertionError("no " + controller + " cgroup in " + procSelfCgroup);
        }
        return Path.of("/sys/fs/cgroup" + v2);
    }

    private static ProcessInfo runPython(ResourceLimits limits, String program) {
        return runArgv(limits, List.of("/usr/bin/python3", "-c", program));
    }

    private static ProcessInfo run(ResourceLimits limits, String script) {
        return runArgv(limits, List.of("sh", "-c", script));
    }

    private static ProcessInfo runArgv(ResourceLimits limits, List<String> argv) {
        ProcessInfo p = forkd.processes().spawn(SpawnRequest.newBuilder()
                .addAllArgv(argv).setLimits(limits).build()).getProcess();
        return forkd.join(p.getId());
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
    void childAllocatingPastItsMemoryMaxIsOomKilledAndSaysSo() {
        ResourceLimits limits = ResourceLimits.newBuilder().setMemoryMaxBytes(32L << 20).build();
        onCgroups(limits, () -> {
            ProcessInfo ended = runPython(limits, "b = bytearray(200 << 20)");
            ProcessInfo free = runPython(ResourceLimits.getDefaultInstance(), "b = bytearray(200 << 20)");

            assertEquals(-9, ended.getExitCode(), "SIGKILL from the OOM killer: " + ended);
            assertEquals(ExitCause.EXIT_CAUSE_OOM_KILL, ended.getExitCause());
            assertEquals(0, free.getExitCode(), "the same without the limit: " + free);
            assertEquals(ExitCause.EXIT_CAUSE_UNSPECIFIED, free.getExitCause());
        });
    }

    @Test
    void sigkillOfAChildUnderAMemoryLimitIsNoOomKill() {
        ResourceLimits limits = ResourceLimits.newBuilder().setMemoryMaxBytes(64L << 20).build();
        onCgroups(limits, () -> {
            ProcessInfo ended = run(limits, "kill -9 $$");

            assertEquals(-9, ended.getExitCode(), ended.toString());
            assertEquals(ExitCause.EXIT_CAUSE_UNSPECIFIED, ended.getExitCause());
        });
    }

    @Test
    void childCannotForkPastItsPidsMax() {
        // Forks until the kernel says EAGAIN; the children wait on a pipe the parent's exit closes.
        String forks = """
                import os
                r, w = os.pipe()
                n = 0
                try:
                    for i in range(10):
                        if os.fork() == 0:
                            os.close(w)
                            os.read(r, 1)
                            os._exit(0)
                        n += 1
                except BlockingIOError:
                    pass
                raise SystemExit(n)
                """;
        ResourceLimits limits = ResourceLimits.newBuilder().setPidsMax(4).build();
        onCgroups(limits, () -> {
            ProcessInfo limited = runPython(limits, forks);
            ProcessInfo free = runPython(ResourceLimits.getDefaultInstance(), forks);

            assertEquals(3, limited.getExitCode(), "4 pids: python and 3 children: " + limited);
            assertEquals(10, free.getExitCode(), "the same without the limit: " + free);
        });
    }

    @Test
    void childUnderCpuMaxIsThrottledInItsOwnCgroupFromItsFirstInstruction() {
        // The program prints its cgroups first thing, then spins until its cgroup's cpu.stat counts
        // a throttled period (giving up after 60 s). Its cpu cgroup: v1's cpu line, else v2's 0:: one.
        String program = """
                import sys, time
                own = open("/proc/self/cgroup").read()
                print(own + "==", flush=True)
                lines = [l.split(":", 2) for l in own.splitlines()]
                v1 = [l[2] for l in lines if "cpu" in l[1].split(",")]
                f = ("/sys/fs/cgroup/cpu" + v1[0] if v1 else "/sys/fs/cgroup" + lines[0][2]) + "/cpu.stat"
                end = time.monotonic() + 60
                while time.monotonic() < end:
                    stat = dict(l.split() for l in open(f) if l.strip())
                    if int(stat["nr_throttled"]) > 0:
                        print("nr_throttled", stat["nr_throttled"])
                        raise SystemExit(0)
                    sum(range(100000))
                raise SystemExit(1)
                """;
        ResourceLimits limits = ResourceLimits.newBuilder().setCpuMax(0.1).build();
        onCgroups(limits, () -> {
            ProcessInfo p = forkd.processes().spawn(SpawnRequest.newBuilder()
                    .addAllArgv(List.of("/usr/bin/python3", "-c", program)).setLimits(limits).build()).getProcess();
            String out = forkd.output(p.getId());
            ProcessInfo ended = forkd.join(p.getId());
            Path cpu = cgroupOf(out.substring(0, Math.max(0, out.indexOf("=="))), "cpu");
            CHILD_CGROUPS.add(cpu);

            assertEquals(0, ended.getExitCode(), "throttled under cpu_max 0.1: " + out);
            assertTrue(out.contains("nr_throttled"), out);
            assertEquals(p.getId(), cpu.getFileName().toString(), "the program ran in the process's own cgroup: " + cpu);
            assertTrue(cpu.getParent().getFileName().toString().startsWith("forkd-"), cpu.toString());
            assertTrue(awaitGone(cpu), "its cgroup is removed once its run has ended: " + cpu);
        });
    }

    /** The cgroup of an ended run is removed on a thread of its own, soon after its exit is recorded. */
    private static boolean awaitGone(Path cgroup) {
        try {
            return FileEvents.awaitGone(cgroup, java.time.Duration.ofSeconds(30));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void limitOutOfRangeIsInvalidArgumentNamingTheField() {
        var e = assertThrows(StatusRuntimeException.class, () -> forkd.processes().spawn(SpawnRequest.newBuilder()
                .addAllArgv(List.of("true")).setLimits(ResourceLimits.newBuilder().setOpenFiles(0)).build()));

        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("limits.open_files", field(e));
    }
    @Test
    void poolWorkersWithCgroupLimitsRunInCgroupsOfTheirOwn() {
        var pools = dev.forkd.v1.PoolServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        var create = dev.forkd.v1.CreatePoolRequest.newBuilder().setProcesses(1)
                .setWorker(dev.forkd.v1.WorkerSpec.newBuilder().setKind(dev.forkd.v1.WorkerKind.WORKER_KIND_PER_TASK)
                        .addAllArgv(List.of("sh", "-c", "echo {} $(grep -c /forkd- /proc/self/cgroup)"))
                        .setLimits(ResourceLimits.newBuilder().setPidsMax(50)))
                .build();
        if (CGROUPS_MISSING.isPresent()) {
            System.out.println("cgroup branch: no usable cgroups here (" + CGROUPS_MISSING.get() + "); expecting refusal");
            var e = assertThrows(StatusRuntimeException.class, () -> pools.create(create));
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
            assertEquals("CGROUPS_UNAVAILABLE", reason(e));
            return;
        }
        System.out.println("cgroup branch: this host has cgroups forkd can use; enforcing for real");
        var pool = pools.create(create).getPool();
        try {
            var r = pools.apply(dev.forkd.v1.ApplyRequest.newBuilder().setName(pool.getId())
                    .setInput(MapCall.item(1)).build()).getResult();

            String[] out = r.getOutput().toStringUtf8().strip().split(" ");
            assertEquals("1", out[0], r.toString());
            assertTrue(Integer.parseInt(out[1]) >= 1, "the worker's cgroups are forkd's: " + r);
        } finally {
            pools.terminate(dev.forkd.v1.TerminatePoolRequest.newBuilder().setName(pool.getId()).build());
        }
    }

    @Test
    void aRestartedProcessGetsItsCgroupAgainAndEachRunItsOwnCause() {
        ResourceLimits limits = ResourceLimits.newBuilder().setMemoryMaxBytes(32L << 20).build();
        onCgroups(limits, () -> {
            // First run: OOM-killed. The restart is asked for by hand; the second run exits cleanly
            // in the same process's cgroup (made again), and its record says nothing of the first's cause.
            Path marker = forkd.dir.resolve("second-run");
            ProcessInfo first = runPython(limits, "import os\n"
                    + "if os.path.exists(\"" + marker + "\"):\n    raise SystemExit(0)\n"
                    + "open(\"" + marker + "\", \"w\").close()\n"
                    + "b = bytearray(200 << 20)\n");
            assertEquals(ExitCause.EXIT_CAUSE_OOM_KILL, first.getExitCause(), first.toString());

            forkd.processes().restart(dev.forkd.v1.RestartProcessRequest.newBuilder().setName(first.getId()).build());
            ProcessInfo second = forkd.join(first.getId());

            assertEquals(0, second.getExitCode(), second.toString());
            assertEquals(first.getRestartCount() + 1, second.getRestartCount(), "a new run: " + second);
            assertEquals(ExitCause.EXIT_CAUSE_UNSPECIFIED, second.getExitCause(), second.toString());
        });
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
