package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The cgroups forkd makes for its processes: one per process (its whole process group), under a
 * parent of this server's own ({@code forkd-<name>}). Two kinds: {@link CgroupV2} (the server's
 * delegated cgroup) and {@link CgroupV1} (writable memory, cpu and pids hierarchies).
 */
public interface Cgroups extends CgroupSupport {

    /** A group's name: one directory level, never a control file's name (those all hold a dot). */
    Pattern GROUP = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,127}");
    /** The CFS period a {@code cpu_max} is written over (v1's cpu.cfs_period_us, v2's cpu.max). */
    long CPU_PERIOD_MICROS = 100_000;
    /** The kernel's smallest CFS quota. */
    long MIN_QUOTA_MICROS = 1_000;

    /**
     * Readies these cgroups for a server that is starting, before it starts any agent: for
     * {@link CgroupV2}, forkd moves itself into a leaf of its delegated cgroup and enables the
     * controllers its limits need there ({@link CgroupDelegation}). Nothing for the other kinds.
     *
     * @return the cgroups to use from now on
     * @throws IOException saying what could not be done
     */
    default Cgroups settle() throws IOException {
        return this;
    }

    /**
     * Makes (or reuses) {@code group}'s cgroup and writes {@code limits} into it; an unset limit is
     * written as none, so a reused cgroup never keeps an earlier one.
     *
     * @return the {@code cgroup.procs} files a child writes its own pid into before its program runs
     * @throws IOException naming the file that could not be made or written
     */
    List<Path> prepare(String group, ResourceLimits limits) throws IOException;

    /** How many processes the kernel's OOM killer ended in {@code group}'s cgroup; 0 if it has none. */
    long oomKills(String group);

    /** Removes {@code group}'s cgroup, killing what still runs in it first; nothing if it has none. */
    void remove(String group);

    /** Removes every cgroup of this server's, and its parent. */
    void removeAll();

    /**
     * The host's cgroups as this server can use them: v2 if it is delegated to forkd, else v1 if its
     * hierarchies are writable, else none, saying what is missing for each. Only reads: nothing is
     * made or moved until {@link #settle()}.
     *
     * @param root where cgroups are mounted ({@code /sys/fs/cgroup})
     * @param self this process's {@code /proc/self} (its {@code cgroup} and {@code mountinfo})
     * @param name this server's, for the parent {@code forkd-<name>}
     */
    static Cgroups pick(Path root, Path self, String name) {
        CgroupV2.Probe v2 = CgroupV2.probe(root, self);
        if (v2.delegated().isPresent()) {
            return v2.delegated().get().forServer(name);
        }
        Optional<String> v1Missing = CgroupV1.missing(root);
        if (v1Missing.isEmpty()) {
            return new CgroupV1(root, "forkd-" + name);
        }
        return none(v2.missing().orElse("cgroup v2 is not usable") + "; and " + v1Missing.get());
    }

    /** This machine's {@code /sys/fs/cgroup}, as {@link #pick} finds it. */
    static Cgroups host(String name) {
        return pick(Path.of("/sys/fs/cgroup"), Path.of("/proc/self"), name);
    }

    /**
     * cgroup v2 at {@code cgroup}, a directory delegated to forkd ({@code forkd serve --cgroup}),
     * wherever this process is now: {@link #settle()} moves it there.
     *
     * @throws IOException when {@code cgroup} is no writable cgroup v2 directory
     */
    static Cgroups delegated(Path cgroup, String name) throws IOException {
        return CgroupV2.at(cgroup).forServer(name);
    }

    /** No cgroups: every cgroup limit is refused, saying {@code missing}. */
    static Cgroups none(String missing) {
        return new Cgroups() {
            @Override
            public Optional<String> missing(ResourceLimits limits) {
                return limits.needsCgroup() ? Optional.of(missing) : Optional.empty();
            }

            @Override
            public List<Path> prepare(String group, ResourceLimits limits) throws IOException {
                throw new IOException(missing);
            }

            @Override
            public long oomKills(String group) {
                return 0;
            }

            @Override
            public void remove(String group) {}

            @Override
            public void removeAll() {}

            @Override
            public String toString() {
                return "no cgroups (" + missing + ")";
            }
        };
    }

    /** {@code group} checked against {@link #GROUP}. */
    static String checkGroup(String group) {
        if (!GROUP.matcher(group).matches()) {
            throw new IllegalArgumentException("\"" + group + "\" cannot name a cgroup");
        }
        return group;
    }

    /** Whether {@code dir} is a directory this process may make cgroups in. */
    static boolean writableDir(Path dir) {
        return Files.isDirectory(dir) && Files.isWritable(dir);
    }

    /** {@code cpus} as a CFS quota per {@link #CPU_PERIOD_MICROS}, at least the kernel's smallest. */
    static long quotaMicros(double cpus) {
        return Math.max(MIN_QUOTA_MICROS, Math.round(cpus * CPU_PERIOD_MICROS));
    }
}
