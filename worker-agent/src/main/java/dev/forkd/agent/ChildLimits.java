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
 *
 * <p>For cgroup limits the supervisor makes the cgroups and names their {@code cgroup.procs} files;
 * the child starts as a two-line {@code /bin/sh} shim that writes its own pid into each and then
 * execs the rest (prlimit, or the program). So the child is in its cgroups before anything of the
 * program runs, where a child spawned and then moved would run uncharged for a moment.
 */
final class ChildLimits {

    private static final List<Path> PRLIMIT = List.of(Path.of("/usr/bin/prlimit"), Path.of("/bin/prlimit"));
    static final String SHELL = "/bin/sh";
    /** The shim's $0, as ps shows it for the moment before it execs. */
    static final String SHIM_NAME = "forkd-cgroup";
    /** Exit status of a shim that could not join a cgroup (sh has already said why on stderr). */
    static final int SHIM_FAILED = 125;
    /** Writes $$ (the child's pid) to each file before "--", then execs what follows it. */
    static final String SHIM = "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit " + SHIM_FAILED
            + "; shift; done; shift; exec \"$@\"";

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
        return launch(program, argv, limits, List.of());
    }

    /**
     * @param cgroupProcs the cgroup.procs files the child joins before the program runs
     * @throws IllegalStateException (the message says why) when the limits cannot be applied here
     */
    Launch launch(String program, List<String> argv, ResourceLimits limits, List<String> cgroupProcs) {
        boolean cgroupLimits = limits.hasMemoryMaxBytes() || limits.hasCpuMax() || limits.hasPidsMax();
        if (cgroupLimits && cgroupProcs.isEmpty()) {
            // The supervisor makes the cgroups; a start without them is never run unlimited.
            throw new IllegalStateException("cgroup limits were asked for, but the supervisor named no cgroup");
        }
        Launch limited = rlimited(program, argv, limits);
        if (cgroupProcs.isEmpty()) {
            return limited;
        }
        List<String> shim = new ArrayList<>(cgroupProcs.size() + limited.argv().size() + 5);
        shim.add(SHELL);
        shim.add("-c");
        shim.add(SHIM);
        shim.add(SHIM_NAME);
        shim.addAll(cgroupProcs);
        shim.add("--");
        shim.add(limited.path());
        shim.addAll(limited.argv().subList(1, limited.argv().size()));
        return new Launch(SHELL, shim);
    }

    private Launch rlimited(String program, List<String> argv, ResourceLimits limits) {
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
