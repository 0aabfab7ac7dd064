package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * cgroup v2, delegated to forkd: a cgroup it may write (its own, from {@code /proc/self/cgroup}, or
 * the one {@code forkd serve --cgroup} names). At {@link #settle()} forkd moves itself into the leaf
 * {@code <own>/supervisor} and enables memory, cpu and pids (those {@code <own>/cgroup.controllers}
 * offers) in {@code <own>/cgroup.subtree_control}; see {@link CgroupDelegation}. Each process then
 * gets {@code <own>/forkd-<name>/<group>} with {@code memory.max}, {@code cpu.max} and {@code pids.max};
 * the OOM killer's work is counted in its {@code memory.events} ({@code oom_kill}). A limit whose
 * controller is not offered is refused, naming it.
 */
final class CgroupV2 implements Cgroups {

    /** The controllers forkd's cgroup limits use, in the order they are enabled. */
    static final List<String> CONTROLLERS = List.of("memory", "cpu", "pids");

    /** A cgroup v2 directory forkd may write, and the controllers it offers its children. */
    record Delegated(Path own, List<String> offered) {
        /** This server's cgroups in it: {@code <own>/forkd-<name>/<group>}. */
        CgroupV2 forServer(String name) {
            return new CgroupV2(own, own.resolve("forkd-" + name), offered,
                    CONTROLLERS.stream().filter(offered::contains).toList(), false);
        }
    }

    /** What the host offers: the delegated cgroup, or what is missing for one. */
    record Probe(Optional<Delegated> delegated, Optional<String> missing) {
        static Probe missing(String why) {
            return new Probe(Optional.empty(), Optional.of(why));
        }
    }

    private final Path own;
    private final Path parent;
    /** What {@code <own>/cgroup.controllers} listed, for the message of a refused limit. */
    private final List<String> offered;
    /** Of {@link #CONTROLLERS}, those the processes' cgroups have (once settled) or will have. */
    private final List<String> controllers;
    private final boolean settled;

    private CgroupV2(Path own, Path parent, List<String> offered, List<String> controllers, boolean settled) {
        this.own = own;
        this.parent = parent;
        this.offered = offered;
        this.controllers = controllers;
        this.settled = settled;
    }

    /**
     * The cgroup v2 directory {@code own}, as given ({@code forkd serve --cgroup}).
     *
     * @throws IOException when it is no cgroup v2 directory, or not writable
     */
    static Delegated at(Path own) throws IOException {
        Path controllers = own.resolve("cgroup.controllers");
        if (!Files.isRegularFile(controllers)) {
            throw new IOException(own + " is no cgroup v2 directory (no cgroup.controllers there)");
        }
        if (!Cgroups.writableDir(own) || !Files.isWritable(own.resolve("cgroup.subtree_control"))) {
            throw new IOException("cgroup " + own + " is not delegated to forkd (not writable)");
        }
        return new Delegated(own, CgroupDelegation.words(controllers));
    }

    /**
     * This process's cgroup v2 under {@code root}, if it is one forkd can use: {@code <root>} joined
     * with its {@code 0::} path in {@code <self>/cgroup}, less the root of the cgroup2 mount at
     * {@code root} ({@code <self>/mountinfo}; a container's may show only its own subtree). A process
     * already in a {@code supervisor} leaf (a server started again, or by a process of another
     * server's) takes the cgroup above it. Only reads.
     */
    static Probe probe(Path root, Path self) {
        if (!Files.isRegularFile(root.resolve("cgroup.controllers"))) {
            return Probe.missing("cgroup v2 is not mounted at " + root + " (no cgroup.controllers there)");
        }
        Optional<String> path;
        Optional<String> mountRoot;
        try {
            path = Files.readAllLines(self.resolve("cgroup")).stream().filter(l -> l.startsWith("0::"))
                    .map(l -> l.substring(3)).findFirst();
            mountRoot = CgroupDelegation.mountRoot(self.resolve("mountinfo"), root);
        } catch (IOException e) {
            return Probe.missing("cannot read " + self + "/cgroup and mountinfo: " + e.getMessage());
        }
        if (path.isEmpty()) {
            return Probe.missing("forkd is in no cgroup v2 group (" + self.resolve("cgroup") + " has no 0:: line)");
        }
        Path in = Path.of(path.get());
        Path from = Path.of(mountRoot.orElse("/"));
        if (!in.startsWith(from)) {
            return Probe.missing("forkd's cgroup " + in + " is outside the cgroup2 mount at " + root
                    + " (which shows " + from + ")");
        }
        Path mine = root.resolve(from.relativize(in).toString());
        if (mine.getFileName() != null && mine.getFileName().toString().equals(CgroupDelegation.LEAF)
                && !mine.equals(root)) {
            mine = mine.getParent();
        }
        Delegated delegated;
        try {
            delegated = at(mine);
            List<String> strangers = CgroupDelegation.strangers(mine, ProcessHandle.current());
            if (!strangers.isEmpty()) {
                return Probe.missing(CgroupDelegation.notAlone(mine, strangers));
            }
        } catch (IOException e) {
            return Probe.missing(e.getMessage());
        }
        return new Probe(Optional.of(delegated), Optional.empty());
    }

    /**
     * Moves this server into {@code <own>/supervisor} and enables the controllers there; see
     * {@link CgroupDelegation#settle}.
     */
    @Override
    public Cgroups settle() throws IOException {
        List<String> enabled = CgroupDelegation.settle(own, CONTROLLERS, ProcessHandle.current());
        return new CgroupV2(own, parent, offered, enabled, true);
    }

    @Override
    public Optional<String> missing(ResourceLimits limits) {
        List<String> problems = new ArrayList<>();
        need(limits.memoryMaxBytes().isPresent(), "memory_max_bytes", "memory", problems);
        need(limits.cpuMax().isPresent(), "cpu_max", "cpu", problems);
        need(limits.pidsMax().isPresent(), "pids_max", "pids", problems);
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems) + " ("
                + own.resolve("cgroup.controllers") + " lists " + (offered.isEmpty() ? "none" : String.join(" ", offered)) + ")");
    }

    private void need(boolean asked, String limit, String controller, List<String> problems) {
        if (asked && !controllers.contains(controller)) {
            problems.add(limit + " needs the cgroup v2 " + controller + " controller, which " + own
                    + " does not offer its children");
        }
    }

    @Override
    public List<Path> prepare(String group, ResourceLimits limits) throws IOException {
        Path dir = parent.resolve(Cgroups.checkGroup(group));
        Optional<String> missing = missing(limits);
        if (missing.isPresent()) {
            throw new IOException(missing.get());
        }
        if (!Files.isDirectory(parent)) {
            CgroupFiles.makeDir(parent);
            if (!controllers.isEmpty()) {
                CgroupFiles.write(parent.resolve("cgroup.subtree_control"), CgroupDelegation.plus(controllers));
            }
        }
        CgroupFiles.makeDir(dir);
        // Only the files of the controllers it has; an unset limit is "max", so a reused cgroup keeps none.
        if (controllers.contains("memory")) {
            CgroupFiles.write(dir.resolve("memory.max"),
                    limits.memoryMaxBytes().isPresent() ? Long.toString(limits.memoryMaxBytes().getAsLong()) : "max");
        }
        if (controllers.contains("cpu")) {
            CgroupFiles.write(dir.resolve("cpu.max"), (limits.cpuMax().isPresent()
                    ? Long.toString(Cgroups.quotaMicros(limits.cpuMax().getAsDouble())) : "max")
                    + " " + Cgroups.CPU_PERIOD_MICROS);
        }
        if (controllers.contains("pids")) {
            CgroupFiles.write(dir.resolve("pids.max"),
                    limits.pidsMax().isPresent() ? Long.toString(limits.pidsMax().getAsLong()) : "max");
        }
        return List.of(dir.resolve("cgroup.procs"));
    }

    @Override
    public long oomKills(String group) {
        return CgroupFiles.counter(parent.resolve(Cgroups.checkGroup(group)).resolve("memory.events"), "oom_kill");
    }

    @Override
    public void remove(String group) {
        CgroupEvents.remove(parent.resolve(Cgroups.checkGroup(group)));
    }

    @Override
    public void removeAll() {
        CgroupFiles.removeTree(parent, CgroupEvents::remove);
    }

    @Override
    public String toString() {
        return "cgroup v2 at " + own + (settled ? " (this server in " + own.resolve(CgroupDelegation.LEAF) + ")" : "")
                + ", processes' cgroups in " + parent + " with " + (controllers.isEmpty() ? "no controllers of "
                + CONTROLLERS : String.join(", ", controllers));
    }
}
