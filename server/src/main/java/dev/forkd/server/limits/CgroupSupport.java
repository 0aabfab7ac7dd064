package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Whether cgroup limits can be honoured here. A limit that cannot be is refused, never ignored:
 * {@link #missing()} names what is missing, for the FAILED_PRECONDITION a request gets.
 */
@FunctionalInterface
public interface CgroupSupport {

    /** Empty when cgroup limits can be applied; otherwise what is missing, in words. */
    Optional<String> missing();

    /** The host as it is: cgroup v2 at {@code root}, and this process's own cgroup in {@code selfCgroup}. */
    static CgroupSupport of(Path root, Path selfCgroup) {
        return () -> probe(root, selfCgroup);
    }

    /** This machine: {@code /sys/fs/cgroup} and {@code /proc/self/cgroup}. */
    static CgroupSupport host() {
        return of(Path.of("/sys/fs/cgroup"), Path.of("/proc/self/cgroup"));
    }

    private static Optional<String> probe(Path root, Path selfCgroup) {
        if (!Files.isRegularFile(root.resolve("cgroup.controllers"))) {
            return Optional.of("cgroup v2 is not mounted at " + root + " (no cgroup.controllers there;"
                    + " this host has cgroup v1 or none)");
        }
        Optional<String> own;
        try {
            own = Files.readAllLines(selfCgroup).stream().filter(l -> l.startsWith("0::"))
                    .map(l -> l.substring(3)).findFirst();
        } catch (IOException e) {
            return Optional.of("cannot read " + selfCgroup + ": " + e.getMessage());
        }
        if (own.isEmpty()) {
            return Optional.of("forkd is in no cgroup v2 group (" + selfCgroup + " has no 0:: line)");
        }
        Path mine = root.resolve(own.get().replaceFirst("^/", ""));
        if (!Files.isWritable(mine)) {
            return Optional.of("cgroup " + mine + " is not delegated to forkd (not writable)");
        }
        String enabled;
        try {
            enabled = Files.readString(mine.resolve("cgroup.subtree_control"));
        } catch (IOException e) {
            return Optional.of("cannot read " + mine.resolve("cgroup.subtree_control") + ": " + e.getMessage());
        }
        List<String> lacking = List.of("memory", "cpu", "pids").stream()
                .filter(c -> !List.of(enabled.trim().split("\\s+")).contains(c)).toList();
        if (!lacking.isEmpty()) {
            return Optional.of("controllers " + lacking + " are not enabled in "
                    + mine.resolve("cgroup.subtree_control"));
        }
        // Delegation is there, but the agents do not yet place a child in a cgroup of its own:
        // refusing is the honest answer until they do.
        return Optional.of("cgroup v2 is delegated at " + mine
                + ", but this forkd does not apply cgroup limits yet");
    }
}
