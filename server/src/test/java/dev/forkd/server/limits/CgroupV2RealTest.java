package dev.forkd.server.limits;

import static dev.forkd.server.testing.CgroupMount.members;
import static dev.forkd.server.testing.CgroupMount.words;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.testing.CgroupMount;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * cgroup v2 on a real cgroup2 filesystem ({@link CgroupMount}: its test cgroups offer {@code hugetlb}
 * only, so the delegation's mechanics are real, and memory, cpu and pids are the missing controllers
 * a limit is refused for). Real processes stand in for the server and its children; the child joins
 * its cgroup through the agent's own shim.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CgroupV2RealTest {

    private static CgroupMount cgroup2;
    private final List<Process> started = new ArrayList<>();

    @BeforeAll
    static void mount() throws Exception {
        cgroup2 = CgroupMount.mount();
    }

    @AfterAll
    static void unmount() throws Exception {
        if (cgroup2 != null) {
            cgroup2.close();
        }
    }

    @AfterEach
    void stopProcesses() {
        started.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
    }

    private static ResourceLimits limits(OptionalLong memory, OptionalDouble cpu, OptionalLong pids) {
        return new ResourceLimits(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                OptionalLong.empty(), OptionalLong.empty(), memory, cpu, pids);
    }

    private Process start(List<String> argv) throws IOException {
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        started.add(p);
        return p;
    }

    /** A shell that starts {@code sleep} in the background and says its pid: a server and its agent. */
    private Process shellWithChild() throws IOException {
        return start(List.of("/bin/sh", "-c", "sleep 60 & echo $!; wait"));
    }

    private static String firstLine(Process p) throws IOException {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    /** What the agent spawns for a child with cgroups: its /bin/sh shim, writing $$ into each procs file. */
    private Process throughTheShim(List<Path> procs, String script) throws Exception {
        var shim = Class.forName("dev.forkd.agent.ChildLimits");
        var text = shim.getDeclaredField("SHIM");
        var name = shim.getDeclaredField("SHIM_NAME");
        text.setAccessible(true);
        name.setAccessible(true);
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", (String) text.get(null), (String) name.get(null)));
        procs.forEach(p -> argv.add(p.toString()));
        argv.addAll(List.of("--", "/bin/sh", "-c", script));
        return start(argv);
    }

    @Test
    void delegationMovesTheServerAndItsAgentsIntoTheLeafThenEnablesTheControllersForTheirSiblings() throws Exception {
        Path own = cgroup2.newCgroup("delegated");
        Process server = shellWithChild();
        long agent = Long.parseLong(firstLine(server));
        Files.writeString(own.resolve("cgroup.procs"), Long.toString(server.pid()));
        Files.writeString(own.resolve("cgroup.procs"), Long.toString(agent));
        // v2's rule, in force here: no controller for the children of a cgroup with processes in it.
        assertThrows(IOException.class, () -> Files.writeString(own.resolve("cgroup.subtree_control"), "+hugetlb"));

        List<String> enabled = CgroupDelegation.settle(own, List.of("memory", "cpu", "pids", "hugetlb"), server.toHandle());

        assertEquals(List.of("hugetlb"), enabled, "what own offers of what was wanted");
        assertEquals(List.of("hugetlb"), words(own.resolve("cgroup.subtree_control")));
        assertEquals(List.of(), members(own), "nothing left in the delegated cgroup itself");
        assertEquals(Set.of(server.pid(), agent), Set.copyOf(members(own.resolve("supervisor"))));
        assertEquals(cgroup2.inHierarchy(own.resolve("supervisor")), CgroupMount.cgroupOf(agent));

        // The processes' cgroups, beside the leaf, have the controller.
        CgroupV2 cgroups = CgroupV2.at(own).forServer("t");
        Path procs = cgroups.prepare("p-1", ResourceLimits.NONE).getFirst();
        assertEquals(List.of("hugetlb"), words(own.resolve("forkd-t/cgroup.controllers")));
        assertEquals(own.resolve("forkd-t/p-1/cgroup.procs"), procs);

        // Settling again (a server started again in the same cgroup) finds it done and changes nothing.
        assertEquals(List.of("hugetlb"), CgroupDelegation.settle(own, List.of("hugetlb"), server.toHandle()));
        assertEquals(Set.of(server.pid(), agent), Set.copyOf(members(own.resolve("supervisor"))));
    }

    @Test
    void aProcessNotTheServersInTheDelegatedCgroupIsRefusedByPidAndNothingIsMoved() throws Exception {
        Path own = cgroup2.newCgroup("shared");
        Process stranger = start(List.of("sleep", "60"));
        Files.writeString(own.resolve("cgroup.procs"), Long.toString(stranger.pid()));
        Process server = start(List.of("sleep", "60"));
        String serverWasIn = CgroupMount.cgroupOf(server.pid());

        var e = assertThrows(IOException.class,
                () -> CgroupDelegation.settle(own, List.of("hugetlb"), server.toHandle()));

        assertTrue(e.getMessage().startsWith("cgroup " + own + " holds processes other than forkd's ("
                + stranger.pid() + " (sleep))"), e.getMessage());
        assertTrue(e.getMessage().endsWith("(systemd: Delegate=yes)"), e.getMessage());
        assertFalse(Files.exists(own.resolve("supervisor")), "no leaf made");
        assertEquals(List.of(), words(own.resolve("cgroup.subtree_control")));
        assertEquals(List.of(stranger.pid()), members(own));
        assertEquals(serverWasIn, CgroupMount.cgroupOf(server.pid()), "the server was not moved");
    }

    @Test
    void theShimPutsTheChildInItsOwnCgroupWhichGoesOnceEmptyKillingWhatIsLeft() throws Exception {
        Path own = cgroup2.newCgroup("children");
        CgroupV2 cgroups = CgroupV2.at(own).forServer("t");

        // A running child, removed: killed (cgroup.kill), and its cgroup goes once cgroup.events says empty.
        List<Path> procs = cgroups.prepare("p-1", ResourceLimits.NONE);
        Path dir = own.resolve("forkd-t/p-1");
        assertEquals(List.of(dir.resolve("cgroup.procs")), procs);
        Process running = throughTheShim(procs, "echo $$; while read -r l; do case $l in 0::*) echo \"$l\";; esac; done </proc/self/cgroup; exec sleep 60");
        var out = new BufferedReader(new InputStreamReader(running.getInputStream(), StandardCharsets.UTF_8));
        assertEquals(Long.toString(running.pid()), out.readLine(), "the program is the child itself: same pid");
        assertEquals("0::" + cgroup2.inHierarchy(dir), out.readLine(), "in its cgroup from its first instruction");
        assertEquals(List.of(running.pid()), members(dir));
        assertTrue(CgroupEvents.populated(dir));

        cgroups.remove("p-1");

        assertFalse(Files.exists(dir), "removed");
        assertTrue(running.waitFor(10, TimeUnit.SECONDS));
        assertEquals(128 + 9, running.exitValue(), "SIGKILL");

        // A child that ended leaving one of its own behind: that one is killed, then the cgroup goes.
        procs = cgroups.prepare("p-2", ResourceLimits.NONE);
        Process leaves = throughTheShim(procs, "sleep 60 & echo $!");
        long left = Long.parseLong(firstLine(leaves));
        assertEquals(0, leaves.waitFor());
        assertEquals(List.of(left), members(own.resolve("forkd-t/p-2")));

        cgroups.remove("p-2");

        assertFalse(Files.exists(own.resolve("forkd-t/p-2")));
        var leftOver = ProcessHandle.of(left);
        if (leftOver.isPresent()) { // else gone already
            leftOver.get().onExit().get(10, TimeUnit.SECONDS); // killed: it ends (a TimeoutException fails the test)
        }

        // One that ended with nothing left: empty already, removed at once; then the parent with removeAll.
        procs = cgroups.prepare("p-3", ResourceLimits.NONE);
        assertEquals(0, throughTheShim(procs, "exit 0").waitFor());
        assertFalse(CgroupEvents.populated(own.resolve("forkd-t/p-3")));
        cgroups.remove("p-3");
        assertFalse(Files.exists(own.resolve("forkd-t/p-3")));
        cgroups.removeAll();
        assertFalse(Files.exists(own.resolve("forkd-t")));
    }

    @Test
    void aLimitWhoseControllerIsNotOfferedIsRefusedNamingItAndNothingIsMade() throws Exception {
        Path own = cgroup2.newCgroup("refusing");
        CgroupV2 cgroups = CgroupV2.at(own).forServer("t");
        ResourceLimits all = limits(OptionalLong.of(64L << 20), OptionalDouble.of(0.5), OptionalLong.of(10));

        String missing = cgroups.missing(all).orElseThrow();

        assertEquals("memory_max_bytes needs the cgroup v2 memory controller, which " + own + " does not offer its"
                + " children; cpu_max needs the cgroup v2 cpu controller, which " + own + " does not offer its children;"
                + " pids_max needs the cgroup v2 pids controller, which " + own + " does not offer its children ("
                + own.resolve("cgroup.controllers") + " lists hugetlb)", missing);
        assertEquals(missing, assertThrows(IOException.class, () -> cgroups.prepare("p-1", all)).getMessage());
        assertTrue(cgroups.missing(ResourceLimits.NONE).isEmpty(), "no cgroup limit, nothing missing");
        try (var left = Files.list(own)) {
            assertEquals(List.of(), left.filter(Files::isDirectory).toList(), "no cgroup made");
        }
    }
}
