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

    private Path v1Host() throws IOException {
        file("memory/memory.limit_in_bytes", "9223372036854771712\n");
        file("cpu/cpu.cfs_quota_us", "-1\n");
        file("pids/cgroup.procs", "");
        return file("self", "4:memory:/\n1:cpu:/\n0::/\n");
    }

    private Path v2Host(String subtreeControl) throws IOException {
        file("cgroup.controllers", "cpu memory pids\n");
        file("svc/cgroup.subtree_control", subtreeControl);
        return file("self", "0::/svc\n");
    }

    @Test
    void v1WritesEachLimitIntoItsHierarchyAndNamesTheProcsFiles() throws IOException {
        Cgroups cgroups = Cgroups.pick(root, v1Host(), "t1");
        assertInstanceOf(CgroupV1.class, cgroups);
        assertEquals(Optional.empty(), cgroups.missing());

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
    void v2WithoutTheControllersAndNoV1SaysWhatIsMissingForBoth() throws IOException {
        Cgroups cgroups = Cgroups.pick(root, v2Host("memory\n"), "t2");

        String missing = cgroups.missing().orElseThrow();
        assertTrue(missing.contains("controllers [cpu, pids] are not enabled in " + root.resolve("svc/cgroup.subtree_control")),
                missing);
        assertTrue(missing.contains("no memory hierarchy at " + root.resolve("memory")), missing);
        var e = assertThrows(IOException.class, () -> cgroups.prepare("p-1",
                limits(OptionalLong.of(1L << 20), OptionalDouble.empty(), OptionalLong.empty())));
        assertEquals(missing, e.getMessage());
    }

    @Test
    void noCgroupMountedAtAllSaysSo() throws IOException {
        Path self = file("self", "0::/\n");

        String missing = Cgroups.pick(root, self, "t").missing().orElseThrow();

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
        cgroups.ended("p-1", 1); // nothing made, nothing to remove
        assertTrue(!cgroups.oomKilled("p-1", 1));
    }
}
