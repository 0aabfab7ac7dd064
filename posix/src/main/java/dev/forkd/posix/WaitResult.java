package dev.forkd.posix;

/** A reaped child: its pid and exit code, >= 0 for a normal exit, -N when killed by signal N. */
public record WaitResult(int pid, int exitCode) {

    /** Decodes a waitpid status word (Linux layout: low 7 bits the signal, next byte the exit code). */
    static WaitResult fromStatus(int pid, int status) {
        int signal = status & 0x7f;
        return signal == 0
                ? new WaitResult(pid, (status >> 8) & 0xff)
                : new WaitResult(pid, -signal);
    }
}
