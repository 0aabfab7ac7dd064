package dev.forkd.server.grpc;

import dev.forkd.server.process.ProcessSnapshot;
import dev.forkd.v1.ExitCause;

/** Why a process ended, when a limit says so. */
final class ExitCauses {

    /** The signal the kernel sends at RLIMIT_CPU's soft limit. */
    static final int SIGXCPU = 24;
    /** The signal the OOM killer ends a process with. */
    static final int SIGKILL = 9;

    ExitCause of(ProcessSnapshot s) {
        int signal = -s.endedExitCode().orElse(0);
        // SIGXCPU is sent by the kernel only at RLIMIT_CPU (a user could send it too, but a child
        // under a CPU limit that dies of it is, to its user, a CPU-limit exit).
        if (signal == SIGXCPU && s.spec().limits().cpuSeconds().isPresent()) {
            return ExitCause.EXIT_CAUSE_CPU_LIMIT;
        }
        // SIGKILL while its cgroup counted an OOM kill in this run (kept with the exit, so it is
        // still said after a restart): the kernel ended it at its memory limit. A SIGKILL from
        // anyone else in a run without an OOM kill says nothing.
        if (signal == SIGKILL && s.oomKilled()) {
            return ExitCause.EXIT_CAUSE_OOM_KILL;
        }
        return ExitCause.EXIT_CAUSE_UNSPECIFIED;
    }
}
