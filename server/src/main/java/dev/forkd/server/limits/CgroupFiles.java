package dev.forkd.server.limits;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Logger;

/** Reading, writing and removing cgroup directories, the same for v1 and v2. */
final class CgroupFiles {

    private static final Logger LOG = Logger.getLogger(CgroupFiles.class.getName());

    /** How long a removal waits for the processes it killed to leave the cgroup. */
    static final Duration REMOVE_WAIT = Duration.ofSeconds(2);

    private CgroupFiles() {}

    /** Writes {@code value} to a control file, as one write; the exception names the file. */
    static void write(Path file, String value) throws IOException {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new IOException("cannot write \"" + value + "\" to " + file + ": " + e.getMessage(), e);
        }
    }

    /** The number on the line {@code key N} of a flat-keyed file (memory.events, memory.oom_control); 0 if none. */
    static long counter(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] kv = line.trim().split("\\s+");
                if (kv.length == 2 && kv[0].equals(key)) {
                    return Long.parseLong(kv[1]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // No such cgroup (already removed) or no such counter: nothing counted.
        }
        return 0;
    }

    /** Makes {@code dir} unless it is there. */
    static void makeDir(Path dir) throws IOException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("cannot make cgroup " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes the cgroup {@code dir}: SIGKILL to every process still in it, then rmdir, retried
     * while the killed ones are still leaving, for at most {@link #REMOVE_WAIT}. A cgroup that stays
     * is logged (its processes outlived SIGKILL) and left for the next removal.
     */
    static void remove(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        long deadline = System.nanoTime() + REMOVE_WAIT.toNanos();
        while (true) {
            killMembers(dir);
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException e) {
                if (System.nanoTime() - deadline > 0) {
                    LOG.warning("cannot remove cgroup " + dir + ": " + e.getMessage());
                    return;
                }
                // Killed processes leave their cgroup as they exit: give them a moment.
                LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
            }
        }
    }

    /** Removes {@code parent}'s cgroup children and then {@code parent}, as {@link #remove} does. */
    static void removeTree(Path parent) {
        removeTree(parent, CgroupFiles::remove);
    }

    /** Removes {@code parent}'s cgroup children and then {@code parent}, each with {@code removal}. */
    static void removeTree(Path parent, java.util.function.Consumer<Path> removal) {
        if (!Files.isDirectory(parent)) {
            return;
        }
        try (DirectoryStream<Path> children = Files.newDirectoryStream(parent, Files::isDirectory)) {
            for (Path child : children) {
                removal.accept(child);
            }
        } catch (IOException e) {
            LOG.warning("cannot list cgroup " + parent + ": " + e.getMessage());
        }
        removal.accept(parent);
    }

    /** SIGKILL to each process in {@code dir}'s cgroup.procs. */
    static void killMembers(Path dir) {
        List<String> pids;
        try {
            pids = Files.readAllLines(dir.resolve("cgroup.procs"));
        } catch (IOException e) {
            return; // gone already, or not a cgroup: nothing to kill
        }
        for (String pid : pids) {
            if (pid.strip().matches("[0-9]+")) {
                ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
