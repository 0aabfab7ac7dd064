package dev.forkd.agent;

import dev.forkd.v1.ResourceLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Applies a child's rlimits before its program runs. The agent spawns with posix_spawn, which
 * cannot set rlimits in the child, and setting them on the agent itself would bind the agent and
 * every concurrent spawn. So the child is started as util-linux's {@code prlimit}, which sets the
 * limits on itself and then execs the program: same pid, same process group, and the program never
 * runs a single instruction without its limits.
 */
final class ChildLimits {

    private static final List<Path> PRLIMIT = List.of(Path.of("/usr/bin/prlimit"), Path.of("/bin/prlimit"));

    private final Optional<Path> prlimit;

    ChildLimits() {
        this(PRLIMIT.stream().filter(Files::isExecutable).findFirst());
    }

    ChildLimits(Optional<Path> prlimit) {
        this.prlimit = prlimit;
    }

    /** What to spawn: the program itself, or {@code prlimit} in front of it. */
    record Launch(String path, List<String> argv) {}

    /**
     * @param program the resolved, absolute program
     * @throws IllegalStateException (the message says why) when the limits cannot be applied here
     */
    Launch launch(String program, List<String> argv, ResourceLimits limits) {
        if (limits.hasMemoryMaxBytes() || limits.hasCpuMax() || limits.hasPidsMax()) {
            // The supervisor refuses these where it cannot honour them; an agent never ignores one.
            throw new IllegalStateException("this agent does not apply cgroup limits");
        }
        List<String> options = new ArrayList<>();
        if (limits.hasOpenFiles()) {
            options.add("--nofile=" + both(limits.getOpenFiles()));
        }
        if (limits.hasAddressSpaceBytes()) {
            options.add("--as=" + both(limits.getAddressSpaceBytes()));
        }
        if (limits.hasCpuSeconds()) {
            // The hard limit one second later: at the soft one the child gets SIGXCPU (which says
            // "CPU limit"); an equal hard limit would be SIGKILL at once, which says nothing.
            options.add("--cpu=" + limits.getCpuSeconds() + ":" + (limits.getCpuSeconds() + 1));
        }
        if (limits.hasCoreBytes()) {
            options.add("--core=" + both(limits.getCoreBytes()));
        }
        if (limits.hasProcesses()) {
            options.add("--nproc=" + both(limits.getProcesses()));
        }
        if (options.isEmpty()) {
            return new Launch(program, argv);
        }
        Path tool = prlimit.orElseThrow(() -> new IllegalStateException(
                "rlimits need util-linux's prlimit, which is not at " + PRLIMIT));
        List<String> wrapped = new ArrayList<>(options.size() + argv.size() + 2);
        wrapped.add(tool.toString());
        wrapped.addAll(options);
        wrapped.add("--");
        wrapped.add(program);
        wrapped.addAll(argv.subList(1, argv.size()));
        return new Launch(tool.toString(), wrapped);
    }

    private static String both(long value) {
        return value + ":" + value;
    }
}
