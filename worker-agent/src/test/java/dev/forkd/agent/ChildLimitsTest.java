package dev.forkd.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.forkd.v1.ResourceLimits;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the agent spawns for a child's limits: the program, prlimit before it, and the cgroup shim before both. */
class ChildLimitsTest {

    private final ChildLimits limits = new ChildLimits(Optional.of(Path.of("/usr/bin/prlimit")));

    @Test
    void cgroupsGoFirstThenRlimitsThenTheProgram() {
        ChildLimits.Launch launch = limits.launch("/bin/echo", List.of("echo", "hi"),
                ResourceLimits.newBuilder().setPidsMax(5).setOpenFiles(9).build(),
                List.of("/cg/memory/p-1/cgroup.procs", "/cg/pids/p-1/cgroup.procs"));

        assertEquals("/bin/sh", launch.path());
        assertEquals(List.of("/bin/sh", "-c", ChildLimits.SHIM, "forkd-cgroup",
                "/cg/memory/p-1/cgroup.procs", "/cg/pids/p-1/cgroup.procs", "--",
                "/usr/bin/prlimit", "--nofile=9:9", "--", "/bin/echo", "hi"), launch.argv());
    }

    @Test
    void withoutRlimitsTheShimExecsTheProgramItself() {
        ChildLimits.Launch launch = limits.launch("/bin/echo", List.of("echo", "hi"),
                ResourceLimits.newBuilder().setMemoryMaxBytes(1 << 20).build(), List.of("/cg/p-1/cgroup.procs"));

        assertEquals(List.of("/bin/sh", "-c", ChildLimits.SHIM, "forkd-cgroup", "/cg/p-1/cgroup.procs", "--",
                "/bin/echo", "hi"), launch.argv());
    }

    @Test
    void aCgroupLimitWithoutACgroupIsRefusedNeverRunUnlimited() {
        var e = assertThrows(IllegalStateException.class, () -> limits.launch("/bin/echo", List.of("echo"),
                ResourceLimits.newBuilder().setCpuMax(0.5).build(), List.of()));

        assertEquals("cgroup limits were asked for, but the supervisor named no cgroup", e.getMessage());
    }

    @Test
    void noLimitsNoWrapper() {
        ChildLimits.Launch launch = limits.launch("/bin/echo", List.of("echo", "hi"), ResourceLimits.getDefaultInstance());

        assertEquals(new ChildLimits.Launch("/bin/echo", List.of("echo", "hi")), launch);
    }
}
