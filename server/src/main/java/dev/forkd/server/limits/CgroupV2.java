package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * cgroup v2, delegated to forkd: the server's own cgroup is writable and has memory, cpu and pids
 * enabled for its children. Each process gets {@code <own>/forkd-<name>/<group>} with
 * {@code memory.max}, {@code cpu.max} and {@code pids.max}; the OOM killer's work is counted in its
 * {@code memory.events} ({@code oom_kill}).
 */
final class CgroupV2 implements Cgroups {

    static final List<String> CONTROLLERS = List.of("memory", "cpu", "pids");
    static final long CPU_PERIOD_MICROS = 100_000;

    /** What the host offers: the delegated cgroup, or what is missing for one. */
    record Probe(Optional<Path> delegated, Optional<String> missing) {
        static Probe missing(String why) {
            return new Probe(Optional.empty(), Optional.of(why));
        }
    }

    private final Path parent;

    CgroupV2(Path parent) {
        this.parent = parent;
    }

    static Probe probe(Path root, Path selfCgroup) {
        if (!Files.isRegularFile(root.resolve("cgroup.controllers"))) {
            return Probe.missing("cgroup v2 is not mounted at " + root + " (no cgroup.controllers there)");
        }
        Optional<String> own;
        try {
            own = Files.readAllLines(selfCgroup).stream().filter(l -> l.startsWith("0::"))
                    .map(l -> l.substring(3)).findFirst();
        } catch (IOException e) {
            return Probe.missing("cannot read " + selfCgroup + ": " + e.getMessage());
        }
        if (own.isEmpty()) {
            return Probe.missing("forkd is in no cgroup v2 group (" + selfCgroup + " has no 0:: line)");
        }
        Path mine = root.resolve(own.get().replaceFirst("^/", ""));
        if (!Cgroups.writableDir(mine)) {
            return Probe.missing("cgroup " + mine + " is not delegated to forkd (not writable)");
        }
        String enabled;
        try {
            enabled = Files.readString(mine.resolve("cgroup.subtree_control"));
        } catch (IOException e) {
            return Probe.missing("cannot read " + mine.resolve("cgroup.subtree_control") + ": " + e.getMessage());
        }
        List<String> on = List.of(enabled.trim().split("\\s+"));
        List<String> lacking = CONTROLLERS.stream().filter(c -> !on.contains(c)).toList();
        if (!lacking.isEmpty()) {
            return Probe.missing("controllers " + lacking + " are not enabled in " + mine.resolve("cgroup.subtree_control"));
        }
        return new Probe(Optional.of(mine), Optional.empty());
    }

    @Override
    public Optional<String> missing() {
        return Optional.empty();
    }

    @Override
    public List<Path> prepare(String group, ResourceLimits limits) throws IOException {
        Path dir = parent.resolve(Cgroups.checkGroup(group));
        if (!Files.isDirectory(parent)) {
            CgroupFiles.makeDir(parent);
            CgroupFiles.write(parent.resolve("cgroup.subtree_control"), "+memory +cpu +pids");
        }
        CgroupFiles.makeDir(dir);
        CgroupFiles.write(dir.resolve("memory.max"),
                limits.memoryMaxBytes().isPresent() ? Long.toString(limits.memoryMaxBytes().getAsLong()) : "max");
        CgroupFiles.write(dir.resolve("cpu.max"), (limits.cpuMax().isPresent()
                ? Long.toString(CgroupV1.quotaMicros(limits.cpuMax().getAsDouble(), CPU_PERIOD_MICROS)) : "max")
                + " " + CPU_PERIOD_MICROS);
        CgroupFiles.write(dir.resolve("pids.max"),
                limits.pidsMax().isPresent() ? Long.toString(limits.pidsMax().getAsLong()) : "max");
        return List.of(dir.resolve("cgroup.procs"));
    }

    @Override
    public long oomKills(String group) {
        return CgroupFiles.counter(parent.resolve(Cgroups.checkGroup(group)).resolve("memory.events"), "oom_kill");
    }

    @Override
    public void remove(String group) {
        CgroupFiles.remove(parent.resolve(Cgroups.checkGroup(group)));
    }

    @Override
    public void removeAll() {
        CgroupFiles.removeTree(parent);
    }

    @Override
    public String toString() {
        return "cgroup v2 at " + parent;
    }
}
