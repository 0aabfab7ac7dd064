package dev.forkd.server.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both kinds of cgroups against a directory tree laid out as the kernel's (plain files, no kernel). */
class CgroupsTest {

    @TempDir
    Path root;

    private static ResourceLimits limits(OptionalLong memory, OptionalDouble cpu, OptionalLong pids) {
        return new ResourceLimits(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                OptionalLong.empty(), OptionalLong.empty(), memory, cpu, pids);
    }

    private Path file(String path, String content) throws IOException {
        Path f = root.resolve(path);
        Files.createDirectories(f.getParent());
        return Files.writeString(f, content);
    }

    private static final ResourceLimits ALL = limits(OptionalLong.of(1L << 20), OptionalDouble.of(1), OptionalLong.of(1));

    /** A /proc/self whose cgroup file says {@code cgroup}. */
    private Path self(String cgroup) throws IOException {
        return file("self/cgroup", cgroup).getParent();
    }

    private Path v1Host() throws IOException {
        file("memory/memory.limit_in_bytes", "9223372036854771712\n");
        file("cpu/cpu.cfs_quota_us", "-1\n");
        file("pids/cgroup.procs", "");
        return self("4:memory:/\n1:cpu:/\n0::/\n");
    }

    /** A v2 host whose cgroup svc (this process's, alone in it) offers {@code controllers}. */
    private Path v2Host(String controllers) throws IOException {
        file("cgroup.controllers", "cpu memory pids\n");
        file("svc/cgroup.controllers", controllers);
        file("svc/cgroup.subtree_control", "");
        file("svc/cgroup.procs", ProcessHandle.current().pid() + "\n");
        return self("0::/svc\n");
    }

    @Test
    void v1WritesEachLimitIntoItsHierarchyAndNamesTheProcsFiles() throws IOException {
        Cgroups cgroups = Cgroups.pick(root, v1Host(), "t1");
        assertInstanceOf(CgroupV1.class, cgroups);
        assertEquals(Optional.empty(), cgroups.missing(ALL));

        List<Path> procs = cgroups.prepare("p-3",
                limits(OptionalLong.of(32L << 20), OptionalDouble.of(0.5), OptionalLong.of(7)));

        assertEquals(List.of(root.resolve("memory/forkd-t1/p-3/cgroup.procs"), root.resolve("cpu/forkd-t1/p-3/cgroup.procs"),
                root.resolve("pids/forkd-t1/p-3/cgroup.procs")), procs);
        assertEquals(Long.toString(32L << 20), Files.readString(root.resolve("memory/forkd-t1/p-3/memory.limit_in_bytes")));
        assertEquals("50000", Files.readString(root.resolve("cpu/forkd-t1/p-3/cpu.cfs_quota_us")));
        assertEquals("100000", Files.readString(root.resolve("cpu/forkd-t1/p-3/cpu.cfs_period_us")));
        assertEquals("7", Files.readString(root.resolve("pids/forkd-t1/p-3/pids.max")));
    }

    @Test
    void v1UnsetLimitsAreWrittenAsNoneSoAReusedCgroupKeepsNoEarlierOne() throws IOException {
        Cgroups cgroups = Cgroups.pick(root, v1Host(), "t1");
        cgroups.prepare("p-3", limits(OptionalLong.of(32L << 20), OptionalDouble.of(2), OptionalLong.of(7)));

        cgroups.prepare("p-3", limits(OptionalLong.empty(), OptionalDouble.empty(), OptionalLong.of(9)));

        assertEquals("-1", Files.readString(root.resolve("memory/forkd-t1/p-3/memory.limit_in_bytes")));
        assertEquals("-1", Files.readString(root.resolve("cpu/forkd-t1/p-3/cpu.cfs_quota_us")));
        assertEquals("9", Files.readString(root.resolve("pids/forkd-t1/p-3/pids.max")));
    }

    @Test
    void v1CountsOomKillsFromOomControl() throws IOException {
        Cgroups cgroups = Cgroups.pick(root, v1Host(), "t1");
        cgroups.prepare("p-3", limits(OptionalLong.of(32L << 20), OptionalDouble.empty(), OptionalLong.empty()));
        assertEquals(0, cgroups.oomKills("p-3"));

        file("memory/forkd-t1/p-3/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");

        assertEquals(2, cgroups.oomKills("p-3"));
        assertEquals(0, cgroups.oomKills("p-4"), "no such cgroup: nothing counted");
    }

    @Test
    void v2TakesTheDelegatedCgroupAndWritesItsLimitFiles() throws IOException {
        Cgroups cgroups = Cgroups.pick(root, v2Host("cpu memory pids\n"), "t2");
        assertInstanceOf(CgroupV2.class, cgroups);
        assertEquals(Optional.empty(), cgroups.missing(ALL));

        List<Path> procs = cgroups.prepare("p-1",
                limits(OptionalLong.of(64L << 20), OptionalDouble.of(0.25), OptionalLong.empty()));

        Path dir = root.resolve("svc/forkd-t2/p-1");
        assertEquals(List.of(dir.resolve("cgroup.procs")), procs);
        assertEquals("+memory +cpu +pids", Files.readString(root.resolve("svc/forkd-t2/cgroup.subtree_control")));
        assertEquals(Long.toString(64L << 20), Files.readString(dir.resolve("memory.max")));
        assertEquals("25000 100000", Files.readString(dir.resolve("cpu.max")));
        assertEquals("max", Files.readString(dir.resolve("pids.max")));
        Files.writeString(dir.resolve("memory.events"), "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
        assertEquals(1, cgroups.oomKills("p-1"));
    }

    @Test
    void v2RefusesALimitWhoseControllerItsCgroupDoesNotOfferNamingIt() throws IOException {
        Cgroups cgroups = Cgroups.pick(root, v2Host("memory io\n"), "t2");

        assertEquals(Optional.empty(), cgroups.missing(limits(OptionalLong.of(1L << 20), OptionalDouble.empty(),
                OptionalLong.empty())), "memory is offered");
        ResourceLimits pids = limits(OptionalLong.of(1L << 20), OptionalDouble.empty(), OptionalLong.of(5));
        String missing = cgroups.missing(pids).orElseThrow();
        assertEquals("pids_max needs the cgroup v2 pids controller, which " + root.resolve("svc")
                + " does not offer its children (" + root.resolve("svc/cgroup.controllers") + " lists memory io)", missing);
        var e = assertThrows(IOException.class, () -> cgroups.prepare("p-1", pids));
        assertEquals(missing, e.getMessage());
        assertTrue(!Files.exists(root.resolve("svc/forkd-t2")), "a refused cgroup is not made");
    }

    @Test
    void v2WithoutTheDelegatedCgroupAndNoV1SaysWhatIsMissingForBoth() throws IOException {
        file("cgroup.controllers", "cpu memory pids\n");
        file("svc/cgroup.controllers", "cpu memory pids\n");
        file("svc/cgroup.subtree_control", "");
        file("svc/cgroup.procs", "1\n" + ProcessHandle.current().pid() + "\n");

        String missing = Cgroups.pick(root, self("0::/svc\n"), "t2").missing(ALL).orElseThrow();

        assertTrue(missing.startsWith("cgroup " + root.resolve("svc") + " holds processes other than forkd's (1 ("), missing);
        assertTrue(missing.contains("no memory hierarchy at " + root.resolve("memory")), missing);
    }

    @Test
    void v2FindsItsCgroupBelowTheMountsRootAndAboveItsSupervisorLeaf() throws IOException {
        file("cgroup.controllers", "cpu memory pids\n");
        file("svc/cgroup.controllers", "cpu memory pids\n");
        file("svc/cgroup.subtree_control", "memory\n");
        file("svc/cgroup.procs", "");
        Path self = self("0::/docker/abc/svc/supervisor\n");
        file("self/mountinfo", "30 22 0:27 / /sys rw - sysfs sysfs rw\n"
                + "40 30 0:37 /docker/abc " + root.toString().replace(" ", "\\040") + " rw,relatime - cgroup2 cgroup2 rw\n");

        Cgroups cgroups = Cgroups.pick(root, self, "t2");

        assertInstanceOf(CgroupV2.class, cgroups);
        assertTrue(cgroups.toString().startsWith("cgroup v2 at " + root.resolve("svc") + ","), cgroups.toString());
    }

    @Test
    void noCgroupMountedAtAllSaysSo() throws IOException {
        Path self = self("0::/\n");

        String missing = Cgroups.pick(root, self, "t").missing(ALL).orElseThrow();

        assertTrue(missing.startsWith("cgroup v2 is not mounted at " + root), missing);
    }

    @Test
    void aGroupThatCouldNameAControlFileIsRefused() throws IOException {
        Cgroups cgroups = Cgroups.pick(root, v1Host(), "t1");

        assertThrows(IllegalArgumentException.class, () -> cgroups.prepare("cgroup.procs",
                limits(OptionalLong.of(1L << 20), OptionalDouble.empty(), OptionalLong.empty())));
    }

    @Test
    void processCgroupsMakeNoCgroupForLimitsThatNeedNone() throws IOException {
        ProcessCgroups cgroups = new ProcessCgroups(Cgroups.pick(root, v1Host(), "t1"));

        assertEquals(List.of(), cgroups.prepare("p-1", ResourceLimits.NONE));
        assertTrue(!Files.exists(root.resolve("memory/forkd-t1")));
        assertTrue(!cgroups.ended("p-1"), "nothing made, nothing removed, no OOM kill");
    }
}
