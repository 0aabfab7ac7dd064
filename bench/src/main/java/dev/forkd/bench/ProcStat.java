package dev.forkd.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory and CPU time of a process, from /proc (Linux). */
final class ProcStat {

    /** Clock ticks per second of /proc/PID/stat's times: 100 on every Linux we run on (USER_HZ). */
    static final double TICKS_PER_SECOND = 100;

    private ProcStat() {}

    /** Resident set size in MB (VmRSS). */
    static double rssMb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                String[] f = line.substring(6).strip().split("\\s+");
                return Long.parseLong(f[0]) * 1024 / 1e6; // kB
            }
        }
        throw new IOException("no VmRSS for pid " + pid);
    }

    /** User plus system CPU time used so far, in milliseconds. */
    static double cpuMs(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // The command name (field 2) may hold spaces: fields are counted after its closing paren.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long utime = Long.parseLong(f[11]); // field 14
        long stime = Long.parseLong(f[12]); // field 15
        return (utime + stime) * 1000 / TICKS_PER_SECOND;
    }
}
