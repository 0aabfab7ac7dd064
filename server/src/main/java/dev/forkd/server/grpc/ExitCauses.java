package dev.forkd.server.grpc;

import dev.forkd.server.limits.ProcessCgroups;
import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.v1.ExitCause;

/** Why a process ended, when a limit says so. */
final class ExitCauses {

    /** The signal the kernel sends at RLIMIT_CPU's soft limit. */
    static final int SIGXCPU = 24;
    /** The signal the OOM killer ends a process with. */
    static final int SIGKILL = 9;

    private final ProcessCgroups cgroups;

    /** @param cgroups where an OOM kill in a process's cgroup was noted */
    ExitCauses(ProcessCgroups cgroups) {
        this.cgroups = cgroups;
    }

    ExitCause of(ProcessSnapshot s) {
        int signal = -s.endedExitCode().orElse(0);
        // SIGXCPU is sent by the kernel only at RLIMIT_CPU (a user could send it too, but a child
        // under a CPU limit that dies of it is, to its user, a CPU-limit exit).
        if (signal == SIGXCPU && s.spec().limits().cpuSeconds().isPresent()) {
            return ExitCause.EXIT_CAUSE_CPU_LIMIT;
        }
        // SIGKILL while its cgroup counted an OOM kill in this run: the kernel ended it at its
        // memory limit (a SIGKILL from anyone else in a run without an OOM kill says nothing).
        if (signal == SIGKILL && s.spec().limits().memoryMaxBytes().isPresent()
                && cgroups.oomKilled(s.id(), s.run())) {
            return ExitCause.EXIT_CAUSE_OOM_KILL;
        }
        return ExitCause.EXIT_CAUSE_UNSPECIFIED;
    }
}
