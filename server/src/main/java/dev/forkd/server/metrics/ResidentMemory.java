package dev.forkd.server.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** A process's resident set size, from Linux's /proc/PID/status (VmRSS). */
final class ResidentMemory {

    private ResidentMemory() {}

    /** Bytes resident, or empty if the process is gone or /proc does not say. */
    static OptionalLong of(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone between listing and reading: no sample this scrape
        }
        return OptionalLong.empty();
    }
}
