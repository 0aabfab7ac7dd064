package dev.forkd.server.it;

import static dev.forkd.server.testing.CgroupMount.cgroupOf;
import static dev.forkd.server.testing.CgroupMount.members;
import static dev.forkd.server.testing.CgroupMount.words;
import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.ForkdServer;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.testing.CgroupMount;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ResourceLimits;
import dev.forkd.v1.SpawnRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real server given a cgroup v2 directory ({@code forkd serve --cgroup}) on a real cgroup2
 * filesystem ({@link CgroupMount}: the directory offers {@code hugetlb} only). The server (this
 * JVM) and its agents move into the leaf {@code <cgroup>/supervisor}; a limit needing memory, cpu
 * or pids is refused naming the missing controller, and leaves nothing behind.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CgroupV2ServerTest {

    private static CgroupMount cgroup2;

    @TempDir
    Path dir;

    @BeforeAll
    static void mount() throws Exception {
        cgroup2 = CgroupMount.mount();
    }

    @AfterAll
    static void unmount() throws Exception {
        if (cgroup2 != null) {
            cgroup2.close(); // moves this JVM back where it was
        }
    }

    private static List<String> cgroupsIn(Path cgroup) throws IOException {
        try (var children = Files.list(cgroup)) {
            return children.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private ServerConfig config(Path cgroup) {
        return ServerConfig.defaults(new ForkdPaths(dir)).withListen(new ListenAddress.Unix(dir.resolve("s.sock")))
                .withCgroup(Optional.of(cgroup));
    }

    @Test
    void theServerAndItsAgentsMoveIntoTheLeafAndALimitWithoutItsControllerIsRefusedNamingIt() throws Exception {
        Path own = cgroup2.own();
        Path leaf = own.resolve("supervisor");
        long me = ProcessHandle.current().pid();
        try (RealServer forkd = new RealServer(2, c -> c.withCgroup(Optional.of(own)))) {
            assertEquals(List.of(), members(own), "no process left in the delegated cgroup itself");
            assertTrue(members(leaf).contains(me), "the server moved into the leaf: " + members(leaf));
            // Beside it there, its two agents, born there (an earlier test's leftovers would be elsewhere).
            List<Procs.Stat> agents = members(leaf).stream().filter(pid -> pid != me)
                    .map(pid -> Procs.stat(pid.intValue()).orElseThrow()).toList();
            assertEquals(2, agents.size(), "the leaf holds the server and its agents: " + agents);
            for (Procs.Stat agent : agents) {
                assertEquals(me, agent.ppid(), "an agent of this server's: " + agent);
                assertTrue(Files.readString(Path.of("/proc/" + agent.pid() + "/cmdline")).contains("--agent-id"),
                        agent.toString());
            }
            assertEquals(List.of(), words(own.resolve("cgroup.subtree_control")),
                    "none of memory, cpu, pids is offered here: nothing to enable");

            // A process without cgroup limits runs, in the agents' leaf.
            ProcessInfo plain = forkd.processes().spawn(SpawnRequest.newBuilder()
                    .addAllArgv(List.of("sh", "-c", "grep -q '^0::" + cgroup2.inHierarchy(leaf) + "$' /proc/self/cgroup"))
                    .build()).getProcess();
            assertEquals(0, forkd.processes().join(JoinProcessRequest.newBuilder().setName(plain.getId()).build())
                    .getProcess().getExitCode(), "a child without cgroup limits stays in the agents' leaf");

            int before = forkd.processes().list(ListProcessesRequest.getDefaultInstance()).getProcessesCount();
            Map<String, ResourceLimits> asked = Map.of(
                    "memory_max_bytes needs the cgroup v2 memory controller", ResourceLimits.newBuilder()
                            .setMemoryMaxBytes(64L << 20).build(),
                    "cpu_max needs the cgroup v2 cpu controller", ResourceLimits.newBuilder().setCpuMax(0.5).build(),
                    "pids_max needs the cgroup v2 pids controller", ResourceLimits.newBuilder().setPidsMax(10).build());
            for (var limit : asked.entrySet()) {
                var e = assertThrows(StatusRuntimeException.class, () -> forkd.processes().spawn(SpawnRequest.newBuilder()
                        .addAllArgv(List.of("true")).setLimits(limit.getValue()).build()));

                assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.toString());
                assertEquals("CGROUPS_UNAVAILABLE", reason(e));
                String said = e.getStatus().getDescription();
                assertTrue(said.contains(limit.getKey() + ", which " + own + " does not offer its children ("
                        + own.resolve("cgroup.controllers") + " lists hugetlb)"), said);
            }
            var pools = dev.forkd.v1.PoolServiceGrpc.newBlockingStub(forkd.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
            var e = assertThrows(StatusRuntimeException.class, () -> pools.create(dev.forkd.v1.CreatePoolRequest.newBuilder()
                    .setProcesses(1).setWorker(dev.forkd.v1.WorkerSpec.newBuilder()
                            .setKind(dev.forkd.v1.WorkerKind.WORKER_KIND_PER_TASK).addAllArgv(List.of("echo", "{}"))
                            .setLimits(ResourceLimits.newBuilder().setPidsMax(5))).build()));
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.toString());

            assertEquals(before, forkd.processes().list(ListProcessesRequest.getDefaultInstance()).getProcessesCount(),
                    "a refused spawn records nothing");
            assertEquals(List.of("supervisor"), cgroupsIn(own), "a refused spawn makes no cgroup");
            for (Procs.Stat agent : agents) {
                assertEquals(List.of(), Procs.childrenOf(agent.pid()).stream().filter(s -> s.state() != 'Z').toList(),
                        "a refused spawn starts nothing");
            }
        }
        assertEquals(List.of("supervisor"), cgroupsIn(own), "the stopped server left no cgroup of its processes'");
    }

    @Test
    void aCgroupThatIsNoCgroupV2FailsTheStartSayingSo() throws Exception {
        Path plain = Files.createDirectory(dir.resolve("plain"));

        var e = assertThrows(IOException.class, () -> ForkdServer.start(config(plain)).close());

        assertEquals("--cgroup " + plain + ": " + plain + " is no cgroup v2 directory (no cgroup.controllers there)",
                e.getMessage());
    }

    // A cgroup holding a process that is not the server's fails the start the same way, naming it
    // (CgroupV2RealTest checks the refusal with a stand-in server): here every process the test
    // could start is this JVM's descendant, which the server counts as its own.
}
