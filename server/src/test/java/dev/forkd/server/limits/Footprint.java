package dev.forkd.server.limits;

import dev.forkd.server.suites.ProcTree;
import dev.forkd.server.suites.ServerProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The server's and its agents' footprint: RSS, heap after a full GC, threads, fds. */
record Footprint(long serverRss, long serverHeapAfterGc, long serverThreads, long serverFds,
        long agentsRss, long agentsThreads, long agentsFds) {

    private static final Pattern USED = Pattern.compile("used (\\d+)K");

    static Footprint of(ServerProcess server) throws IOException, InterruptedException {
        int pid = server.pid();
        long heap = heapAfterGc(pid);
        List<Integer> agents = server.agentPids();
        return new Footprint(ProcTree.rssBytes(pid), heap, ProcTree.threads(pid), ProcTree.fds(pid),
                agents.stream().mapToLong(ProcTree::rssBytes).sum(),
                agents.stream().mapToLong(ProcTree::threads).sum(),
                agents.stream().mapToLong(ProcTree::fds).sum());
    }

    /** Runs a full GC in the server JVM (jcmd), then sums the generations' used sizes. */
    private static long heapAfterGc(int pid) throws IOException, InterruptedException {
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        long used = 0;
        for (String line : info.split("\n")) {
            // One line per generation ("DefNew     total 116160K, used 31021K [...]"), its spaces indented.
            if (!line.startsWith(" ") && line.contains(" total ")) {
                Matcher m = USED.matcher(line);
                if (m.find()) {
                    used += Long.parseLong(m.group(1)) * 1024;
                }
            }
        }
        return used;
    }

    private static String jcmd(int pid, String command) throws IOException, InterruptedException {
        Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
        Process p = new ProcessBuilder(java.resolveSibling("jcmd").toString(), Integer.toString(pid), command)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    @Override
    public String toString() {
        return String.format("server RSS %d MiB, heap after GC %d MiB, %d threads, %d fds; agents RSS %d MiB,"
                + " %d threads, %d fds", serverRss >> 20, serverHeapAfterGc >> 20, serverThreads, serverFds,
                agentsRss >> 20, agentsThreads, agentsFds);
    }
}
