package dev.forkd.server.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A real cgroup2 filesystem, mounted for a test, with a test cgroup {@link #own()} that offers its
 * children exactly one controller, {@code hugetlb} (on a host whose memory, cpu and pids are bound
 * to cgroup v1, the only one v2 can have; on a v2 host the test's parent enables only that one, so
 * the test sees the same everywhere). Mounting needs root (CAP_SYS_ADMIN): where it is refused the
 * test fails saying so, it never passes without having run.
 *
 * <p>{@link #close()} gives everything back, whatever the test did: this JVM moved back to the
 * cgroup it started in, every process left in the test's cgroups killed, the cgroups removed,
 * {@code hugetlb} disabled at the root again if it was enabled for the test, the filesystem
 * unmounted and its mount point removed.
 */
public final class CgroupMount implements AutoCloseable {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final Path mountPoint;
    private final Path top;
    private final Path own;
    /** This JVM's cgroup when the test began (its 0:: path). */
    private final String startedIn;
    private final boolean enabledAtRoot;

    private CgroupMount(Path mountPoint, Path top, String startedIn, boolean enabledAtRoot) {
        this.mountPoint = mountPoint;
        this.top = top;
        this.own = top.resolve("own");
        this.startedIn = startedIn;
        this.enabledAtRoot = enabledAtRoot;
    }

    /**
     * Mounts cgroup2 and makes {@code <mount>/forkd-test-<random>/own}.
     *
     * @throws AssertionError when cgroup2 cannot be mounted here (not root), saying so
     */
    public static CgroupMount mount() throws IOException, InterruptedException {
        Path mountPoint = Files.createTempDirectory(Path.of("/tmp"), "forkd-cgroup2-");
        String out = run("mount", "-t", "cgroup2", "none", mountPoint.toString());
        if (!Files.isRegularFile(mountPoint.resolve("cgroup.controllers"))) {
            Files.deleteIfExists(mountPoint);
            throw new AssertionError("this test needs a real cgroup2 filesystem, and `mount -t cgroup2` failed (it needs"
                    + " root, as CI has; running as uid " + run("id", "-u").strip() + "): " + out.strip());
        }
        String startedIn = Files.readAllLines(Path.of("/proc/self/cgroup")).stream().filter(l -> l.startsWith("0::"))
                .map(l -> l.substring(3)).findFirst().orElse("/");
        boolean enabledAtRoot = false;
        Path top = mountPoint.resolve("forkd-test-" + UUID.randomUUID().toString().substring(0, 8));
        try {
            if (!words(mountPoint.resolve("cgroup.controllers")).contains("hugetlb")) {
                throw new AssertionError("cgroup2 at " + mountPoint + " offers no hugetlb controller (it offers "
                        + words(mountPoint.resolve("cgroup.controllers")) + "): the test has no controller to enable");
            }
            if (!words(mountPoint.resolve("cgroup.subtree_control")).contains("hugetlb")) {
                Files.writeString(mountPoint.resolve("cgroup.subtree_control"), "+hugetlb");
                enabledAtRoot = true;
            }
            Files.createDirectory(top);
            Files.writeString(top.resolve("cgroup.subtree_control"), "+hugetlb");
            Files.createDirectory(top.resolve("own"));
        } catch (IOException | RuntimeException | Error e) {
            new CgroupMount(mountPoint, top, startedIn, enabledAtRoot).close();
            throw e;
        }
        return new CgroupMount(mountPoint, top, startedIn, enabledAtRoot);
    }

    /** The test cgroup: offers {@code hugetlb} only, holds no process. */
    public Path own() {
        return own;
    }

    /** A new test cgroup beside {@link #own()}, offering {@code hugetlb} only and holding no process. */
    public Path newCgroup(String name) throws IOException {
        return Files.createDirectory(top.resolve(name));
    }

    /** Where cgroup2 is mounted. */
    public Path mountPoint() {
        return mountPoint;
    }

    /** The pids in {@code cgroup}'s cgroup.procs. */
    public static List<Long> members(Path cgroup) throws IOException {
        List<Long> pids = new ArrayList<>();
        for (String line : Files.readAllLines(cgroup.resolve("cgroup.procs"))) {
            if (!line.isBlank()) {
                pids.add(Long.parseLong(line.strip()));
            }
        }
        return pids;
    }

    /** The words of a control file (cgroup.controllers, cgroup.subtree_control). */
    public static List<String> words(Path file) throws IOException {
        String text = Files.readString(file).strip();
        return text.isEmpty() ? List.of() : List.of(text.split("\\s+"));
    }

    /** The 0:: line of {@code pid}'s /proc/PID/cgroup: its cgroup v2, from the hierarchy's root. */
    public static String cgroupOf(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup")).stream()
                .filter(l -> l.startsWith("0::")).map(l -> l.substring(3)).findFirst().orElseThrow();
    }

    /** {@code cgroup} as the hierarchy names it (as /proc/PID/cgroup shows it). */
    public String inHierarchy(Path cgroup) {
        return "/" + mountPoint.relativize(cgroup);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        List<String> problems = new ArrayList<>();
        try {
            // Back where this JVM began, should the test have moved it into a test cgroup.
            if (cgroupOf(ProcessHandle.current().pid()).startsWith(inHierarchy(top))) {
                Files.writeString(mountPoint.resolve(startedIn.substring(1)).resolve("cgroup.procs"),
                        Long.toString(ProcessHandle.current().pid()));
            }
            if (Files.isDirectory(top)) {
                removeTree(top, problems);
            }
            if (enabledAtRoot) {
                try {
                    Files.writeString(mountPoint.resolve("cgroup.subtree_control"), "-hugetlb");
                } catch (IOException e) {
                    problems.add("cannot disable hugetlb at the root again: " + e.getMessage());
                }
            }
        } finally {
            String out = run("umount", mountPoint.toString());
            if (Files.exists(mountPoint.resolve("cgroup.controllers"))) {
                problems.add("cannot unmount " + mountPoint + ": " + out.strip());
            } else {
                Files.deleteIfExists(mountPoint);
            }
        }
        if (!problems.isEmpty()) {
            throw new AssertionError("the test's cgroups were not all given back: " + problems);
        }
    }

    /** Kills what runs in {@code cgroup} and below, then removes them, deepest first. */
    private static void removeTree(Path cgroup, List<String> problems) throws IOException, InterruptedException {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(cgroup, Files::isDirectory)) {
            for (Path child : children) {
                removeTree(child, problems);
            }
        }
        if (populated(cgroup)) {
            Files.writeString(cgroup.resolve("cgroup.kill"), "1");
            awaitEmpty(cgroup);
        }
        try {
            Files.delete(cgroup);
        } catch (IOException e) {
            problems.add("cannot remove " + cgroup + ": " + e);
        }
    }

    private static boolean populated(Path cgroup) throws IOException {
        return Files.readString(cgroup.resolve("cgroup.events")).contains("populated 1");
    }

    /**
     * Waits (at most 10 s) for {@code cgroup}'s cgroup.events to say {@code populated 0}: the kernel
     * signals each change of it to inotify.
     *
     * @return whether it did
     */
    public static boolean awaitEmpty(Path cgroup) throws IOException, InterruptedException {
        return FileEvents.await(cgroup, StandardWatchEventKinds.ENTRY_MODIFY, WAIT, () -> !populated(cgroup));
    }

    private static String run(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
