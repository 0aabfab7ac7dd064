package dev.forkd.posix;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The children of a process as /proc lists them ({@code /proc/PID/task/TID/children}). A child
 * subreaper uses it to find the orphans reparented to it: the kernel gives no event for that.
 */
public final class ProcChildren {

    private ProcChildren() {}

    /**
     * Children of the thread-group leader of {@code pid}: where the kernel reparents orphans while
     * the leader lives, and all a subreaper needs to read after each child exit (one small file).
     */
    public static List<Integer> ofLeader(int pid) {
        List<Integer> out = new ArrayList<>();
        read(Path.of("/proc", Integer.toString(pid), "task", Integer.toString(pid), "children"), out);
        return out;
    }

    /** Children of every thread of {@code pid}: what it spawned from any thread, and its orphans. */
    public static List<Integer> ofAllThreads(int pid) {
        List<Integer> out = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc", Integer.toString(pid), "task"))) {
            tasks.forEach(t -> read(t.resolve("children"), out));
        } catch (IOException e) {
            return ofLeader(pid);
        }
        return out;
    }

    private static void read(Path file, List<Integer> out) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            return; // the thread ended meanwhile
        }
        for (String pid : text.trim().split("\\s+")) {
            if (!pid.isEmpty()) {
                out.add(Integer.parseInt(pid));
            }
        }
    }

    /** The process group of {@code pid}, or -1 if it is gone. */
    public static int groupOf(int pid) {
        return statField(pid, 2);
    }

    /** The session of {@code pid}, or -1 if it is gone. */
    public static int sessionOf(int pid) {
        return statField(pid, 3);
    }

    /**
     * When {@code pid} started, in clock ticks after boot (/proc/PID/stat starttime), or -1 if it is
     * gone: a pid and its start time name one process, even after the pid is reused.
     */
    public static long startTicksOf(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Field {@code index} after the command name of /proc/PID/stat (0 is the state). */
    private static int statField(int pid, int index) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(fields[index]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
