package dev.forkd.server.programs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** Resident memory of whole process groups, from /proc: a child's children count too. */
public final class GroupMemory {

    private final Path proc;

    public GroupMemory(Path proc) {
        this.proc = proc;
    }

    /** Resident bytes of each of {@code groups} (process group ids); a group with no process is absent. */
    public Map<Integer, Long> residentBytes(Set<Integer> groups) {
        Map<Integer, Long> out = new HashMap<>();
        if (groups.isEmpty()) {
            return out;
        }
        try (DirectoryStream<Path> all = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path dir : all) {
                int group = groupOf(dir);
                if (groups.contains(group)) {
                    long rss = residentOf(dir);
                    if (rss >= 0) {
                        out.merge(group, rss, Long::sum);
                    }
                }
            }
        } catch (IOException e) {
            // /proc unreadable: nothing measured, nothing restarted
        }
        return out;
    }

    /** The process group in /proc/PID/stat (the field after the state, past the command in parentheses). */
    private static int groupOf(Path dir) {
        try {
            String stat = Files.readString(dir.resolve("stat"));
            String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(rest[2]);
        } catch (IOException | RuntimeException e) {
            return -1; // gone meanwhile
        }
    }

    private static long residentOf(Path dir) {
        try {
            for (String line : Files.readAllLines(dir.resolve("status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                }
            }
            return 0; // a kernel thread or a zombie: no memory of its own
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
