package dev.forkd.server.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Finds agent processes and children by their command lines in /proc. */
final class Agents {

    private Agents() {}

    /** The agent process with this id: a child of this JVM (the supervisor runs in-process). */
    static int pid(String agentId) {
        for (Procs.Stat s : Procs.childrenOf((int) ProcessHandle.current().pid())) {
            if (cmdline(s.pid()).contains("\0--agent-id\0" + agentId + "\0")) {
                return s.pid();
            }
        }
        throw new AssertionError("no agent process " + agentId);
    }

    /** Live (not zombie) processes whose argv is exactly {@code argv}. */
    static List<Procs.Stat> running(String... argv) {
        String wanted = String.join("\0", argv) + "\0";
        return Procs.all().stream().filter(s -> s.state() != 'Z' && cmdline(s.pid()).equals(wanted)).toList();
    }

    private static String cmdline(int pid) {
        try {
            return Files.readString(Path.of("/proc", Integer.toString(pid), "cmdline"));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
