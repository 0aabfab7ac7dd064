package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * cgroup v1, where the memory, cpu and pids hierarchies are writable (as root, typically). Each
 * process gets {@code <root>/<controller>/forkd-<name>/<group>} in all three: memory.limit_in_bytes
 * (and memory.memsw.limit_in_bytes, where swap accounting is on, so swap does not stretch it),
 * cpu.cfs_quota_us over cpu.cfs_period_us, and pids.max. The OOM killer's work is counted in
 * memory.oom_control ({@code oom_kill}).
 */
final class CgroupV1 implements Cgroups {

    private final Path memory;
    private final Path cpu;
    private final Path pids;

    CgroupV1(Path root, String parentName) {
        this.memory = root.resolve("memory").resolve(parentName);
        this.cpu = root.resolve("cpu").resolve(parentName);
        this.pids = root.resolve("pids").resolve(parentName);
    }

    /** Empty when the memory, cpu and pids hierarchies at {@code root} are v1 and writable. */
    static Optional<String> missing(Path root) {
        List<String> problems = new ArrayList<>();
        check(root, "memory", "memory.limit_in_bytes", problems);
        check(root, "cpu", "cpu.cfs_quota_us", problems);
        check(root, "pids", "cgroup.procs", problems);
        return problems.isEmpty() ? Optional.empty()
                : Optional.of("cgroup v1 is not usable: " + String.join(", ", problems));
    }

    private static void check(Path root, String controller, String file, List<String> problems) {
        Path dir = root.resolve(controller);
        if (!Files.isRegularFile(dir.resolve(file))) {
            problems.add("no " + controller + " hierarchy at " + dir);
        } else if (!Cgroups.writableDir(dir)) {
            problems.add(dir + " is not writable by forkd");
        }
    }

    /** All three hierarchies are there (or this would not have been picked): nothing is missing. */
    @Override
    public Optional<String> missing(ResourceLimits limits) {
        return Optional.empty();
    }

    @Override
    public List<Path> prepare(String group, ResourceLimits limits) throws IOException {
        Cgroups.checkGroup(group);
        Path mem = memory.resolve(group);
        Path c = cpu.resolve(group);
        Path p = pids.resolve(group);
        CgroupFiles.makeDir(mem);
        CgroupFiles.makeDir(c);
        CgroupFiles.makeDir(p);
        String bytes = limits.memoryMaxBytes().isPresent() ? Long.toString(limits.memoryMaxBytes().getAsLong()) : "-1";
        // memsw is at least memory's limit: lifting goes memsw first, lowering memory first.
        boolean memsw = Files.exists(mem.resolve("memory.memsw.limit_in_bytes"));
        if (memsw) {
            CgroupFiles.write(mem.resolve("memory.memsw.limit_in_bytes"), "-1");
        }
        CgroupFiles.write(mem.resolve("memory.limit_in_bytes"), bytes);
        if (memsw) {
            CgroupFiles.write(mem.resolve("memory.memsw.limit_in_bytes"), bytes);
        }
        CgroupFiles.write(c.resolve("cpu.cfs_period_us"), Long.toString(Cgroups.CPU_PERIOD_MICROS));
        CgroupFiles.write(c.resolve("cpu.cfs_quota_us"), limits.cpuMax().isPresent()
                ? Long.toString(Cgroups.quotaMicros(limits.cpuMax().getAsDouble())) : "-1");
        CgroupFiles.write(p.resolve("pids.max"),
                limits.pidsMax().isPresent() ? Long.toString(limits.pidsMax().getAsLong()) : "max");
        return List.of(mem.resolve("cgroup.procs"), c.resolve("cgroup.procs"), p.resolve("cgroup.procs"));
    }

    @Override
    public long oomKills(String group) {
        return CgroupFiles.counter(memory.resolve(Cgroups.checkGroup(group)).resolve("memory.oom_control"), "oom_kill");
    }

    @Override
    public void remove(String group) {
        Cgroups.checkGroup(group);
        CgroupFiles.remove(memory.resolve(group));
        CgroupFiles.remove(cpu.resolve(group));
        CgroupFiles.remove(pids.resolve(group));
    }

    @Override
    public void removeAll() {
        CgroupFiles.removeTree(memory);
        CgroupFiles.removeTree(cpu);
        CgroupFiles.removeTree(pids);
    }

    @Override
    public String toString() {
        return "cgroup v1 at " + memory + ", " + cpu + ", " + pids;
    }
}
