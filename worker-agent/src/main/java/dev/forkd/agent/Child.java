package dev.forkd.agent;

/**
 * A child the agent started. Its pid is also its session and process-group id (it is spawned with
 * setsid), so signalling {@code -pid} reaches everything it started that did not leave the group.
 * The fds are the agent's ends of its pipes; -1 for stdin when stdin is /dev/null.
 */
final class Child {
    private final ChildKey key;
    private final int pid;
    private final int stdoutFd;
    private final int stderrFd;
    private final int stdinFd;
    /** Set by the reaper once the leader has ended; after that its group is not signalled again. */
    private volatile boolean ended;

    Child(ChildKey key, int pid, int stdoutFd, int stderrFd, int stdinFd) {
        this.key = key;
        this.pid = pid;
        this.stdoutFd = stdoutFd;
        this.stderrFd = stderrFd;
        this.stdinFd = stdinFd;
    }

    ChildKey key() {
        return key;
    }

    int pid() {
        return pid;
    }

    int stdoutFd() {
        return stdoutFd;
    }

    int stderrFd() {
        return stderrFd;
    }

    int stdinFd() {
        return stdinFd;
    }

    boolean ended() {
        return ended;
    }

    void markEnded() {
        ended = true;
    }
}
