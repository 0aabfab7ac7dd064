package dev.forkd.posix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The libc calls the agent needs, through FFM. Create one and share it: it holds only immutable
 * method handles, and every call is thread-safe.
 */
public final class Posix {
    private static final short POSIX_SPAWN_SETPGROUP = 0x02;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;

    private final Libc libc;

    public Posix() {
        this(new Libc());
    }

    Posix(Libc libc) {
        this.libc = libc;
    }

    Libc libc() {
        return libc;
    }

    /** Binds every libc function now (they are bound on first use otherwise); any thread. */
    public void bindAll() {
        libc.bindAll();
    }

    /** posix_spawn. Returns the pid, or throws SpawnException (with errno) for a start that failed. */
    public int spawn(SpawnSpec spec) throws SpawnException {
        // glibc reports a failed chdir in the child with the same errnos as a failed exec (ENOENT,
        // EACCES), so a bad cwd is told apart here, before anything is started.
        if (spec.cwd().isPresent() && !Files.isDirectory(Path.of(spec.cwd().get()))) {
            throw new SpawnException(SpawnException.Kind.BAD_CWD, Errno.ENOTDIR,
                    "cwd \"" + spec.cwd().get() + "\" is not a directory");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(Libc.OPAQUE_BYTES, 16);
            MemorySegment attr = arena.allocate(Libc.OPAQUE_BYTES, 16);
            check((int) libc.fileActionsInit.handle().invokeExact(actions), "posix_spawn_file_actions_init");
            try {
                check((int) libc.attrInit.handle().invokeExact(attr), "posix_spawnattr_init");
                try {
                    addStdio(arena, actions, 0, spec.stdinFd());
                    addStdio(arena, actions, 1, spec.stdoutFd());
                    addStdio(arena, actions, 2, spec.stderrFd());
                    int firstClosed = 3;
                    if (spec.secretFd() >= 0) {
                        // dup2 clears close-on-exec on the copy: only fd 3 of this child holds it.
                        check((int) libc.fileActionsAddDup2.handle().invokeExact(actions, spec.secretFd(),
                                SpawnSpec.SECRET_TARGET_FD), "posix_spawn_file_actions_adddup2");
                        firstClosed = SpawnSpec.SECRET_TARGET_FD + 1;
                    }
                    // Belt and braces: our fds are O_CLOEXEC, but the JVM and libraries may hold
                    // some that are not, and a leaked pipe end would keep a reader from seeing EOF.
                    check((int) libc.fileActionsAddClosefrom.handle().invokeExact(actions, firstClosed),
                            "posix_spawn_file_actions_addclosefrom_np");
                    if (spec.cwd().isPresent()) {
                        check((int) libc.fileActionsAddChdir.handle().invokeExact(actions,
                                arena.allocateFrom(spec.cwd().get())), "posix_spawn_file_actions_addchdir_np");
                    }
                    setAttributes(arena, attr, spec.grouping());
                    MemorySegment pid = arena.allocate(JAVA_INT);
                    int rc = (int) libc.posixSpawn.handle().invokeExact(pid, arena.allocateFrom(spec.path()), actions, attr,
                            stringArray(arena, spec.argv()), stringArray(arena, spec.env()));
                    if (rc != 0) {
                        throw failure(spec, rc);
                    }
                    return pid.get(JAVA_INT, 0);
                } finally {
                    int ignored = (int) libc.attrDestroy.handle().invokeExact(attr);
                }
            } finally {
                int ignored = (int) libc.fileActionsDestroy.handle().invokeExact(actions);
            }
        } catch (SpawnException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    private void addStdio(Arena arena, MemorySegment actions, int target, int fd) throws Throwable {
        if (fd < 0) {
            check((int) libc.fileActionsAddOpen.handle().invokeExact(actions, target, arena.allocateFrom("/dev/null"),
                    Libc.O_RDWR, 0), "posix_spawn_file_actions_addopen");
        } else {
            check((int) libc.fileActionsAddDup2.handle().invokeExact(actions, fd, target), "posix_spawn_file_actions_adddup2");
        }
    }

    private void setAttributes(Arena arena, MemorySegment attr, SpawnSpec.Grouping grouping) throws Throwable {
        // An empty mask and every signal at its default: the child must not inherit the JVM's
        // blocked or ignored signals (SIGPIPE ignored would change how pipelines end).
        short flags = (short) (POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | switch (grouping) {
            case NEW_SESSION -> POSIX_SPAWN_SETSID;
            case NEW_PROCESS_GROUP -> POSIX_SPAWN_SETPGROUP;
            case INHERIT -> 0;
        });
        check((int) libc.attrSetFlags.handle().invokeExact(attr, flags), "posix_spawnattr_setflags");
        if (grouping == SpawnSpec.Grouping.NEW_PROCESS_GROUP) {
            check((int) libc.attrSetPgroup.handle().invokeExact(attr, 0), "posix_spawnattr_setpgroup");
        }
        MemorySegment empty = arena.allocate(Libc.SIGSET_BYTES, 8);
        MemorySegment all = arena.allocate(Libc.SIGSET_BYTES, 8);
        check((int) libc.sigemptyset.handle().invokeExact(empty), "sigemptyset");
        check((int) libc.sigfillset.handle().invokeExact(all), "sigfillset");
        check((int) libc.attrSetSigmask.handle().invokeExact(attr, empty), "posix_spawnattr_setsigmask");
        check((int) libc.attrSetSigdefault.handle().invokeExact(attr, all), "posix_spawnattr_setsigdefault");
    }

    private static MemorySegment stringArray(Arena arena, List<String> strings) {
        MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1L);
        for (int i = 0; i < strings.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
        }
        array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return array;
    }

    private static void check(int rc, String call) throws SpawnException {
        if (rc != 0) {
            throw new SpawnException(rc == Errno.ENOMEM ? SpawnException.Kind.RESOURCES : SpawnException.Kind.OTHER,
                    rc, call + " failed: " + Errno.name(rc));
        }
    }

    private static SpawnException failure(SpawnSpec spec, int errno) {
        String program = "\"" + spec.path() + "\"";
        return switch (errno) {
            case Errno.ENOENT -> new SpawnException(SpawnException.Kind.NOT_FOUND, errno, program + " not found");
            case Errno.EACCES, Errno.ENOEXEC, Errno.EISDIR, Errno.ETXTBSY ->
                    new SpawnException(SpawnException.Kind.NOT_EXECUTABLE, errno,
                            program + " is not executable (" + Errno.name(errno) + ")");
            case Errno.ENOTDIR, Errno.ELOOP, Errno.ENAMETOOLONG ->
                    new SpawnException(SpawnException.Kind.NOT_FOUND, errno,
                            program + " not found (" + Errno.name(errno) + ")");
            case Libc.EAGAIN, Errno.ENOMEM, Errno.EMFILE, Errno.ENFILE, Errno.E2BIG ->
                    new SpawnException(SpawnException.Kind.RESOURCES, errno,
                            "cannot start " + program + ": out of resources (" + Errno.name(errno) + ")");
            default -> new SpawnException(SpawnException.Kind.OTHER, errno,
                    "cannot start " + program + ": " + Errno.name(errno));
        };
    }

    /** pipe2(O_CLOEXEC): {readFd, writeFd}. Close-on-exec so no child inherits the other ends. */
    public int[] pipe() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int rc = (int) libc.pipe2.handle().invokeExact(libc.errnoSegment(), fds, Libc.O_CLOEXEC);
            if (rc != 0) {
                throw new IllegalStateException("pipe2 failed: " + Errno.name(libc.errno()));
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /** Reads up to len bytes into buf. 0 at end of file, -2 when a non-blocking fd has nothing now. */
    public int read(int fd, MemorySegment buf, int len) throws IOException {
        try {
            while (true) {
                long n = (long) libc.read.handle().invokeExact(libc.errnoSegment(), fd, buf, (long) len);
                if (n >= 0) {
                    return (int) n;
                }
                int errno = libc.errno();
                if (errno == Libc.EAGAIN) {
                    return -2;
                }
                if (errno != Libc.EINTR) {
                    throw new IOException("read(" + fd + ") failed: " + Errno.name(errno));
                }
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /**
     * Writes up to len bytes from buf; returns how many were written (possibly fewer), or -2 when a
     * non-blocking fd is full. EPIPE (the reader is gone) and other errors are IOExceptions.
     */
    public int write(int fd, MemorySegment buf, int len) throws IOException {
        try {
            while (true) {
                long n = (long) libc.write.handle().invokeExact(libc.errnoSegment(), fd, buf, (long) len);
                if (n >= 0) {
                    return (int) n;
                }
                int errno = libc.errno();
                if (errno == Libc.EAGAIN) {
                    return -2;
                }
                if (errno == Libc.EPIPE) {
                    throw new IOException("the reader closed the pipe (EPIPE)");
                }
                if (errno != Libc.EINTR) {
                    throw new IOException("write(" + fd + ") failed: " + Errno.name(errno));
                }
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /** close(fd); errors are ignored because on Linux the fd is released whatever close returns. */
    public void close(int fd) {
        try {
            int ignored = (int) libc.close.handle().invokeExact(libc.errnoSegment(), fd);
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    public void setNonBlocking(int fd) {
        try {
            int flags = (int) libc.fcntl.handle().invokeExact(libc.errnoSegment(), fd, Libc.F_GETFL, 0);
            if (flags < 0 || (int) libc.fcntl.handle().invokeExact(libc.errnoSegment(), fd, Libc.F_SETFL,
                    flags | Libc.O_NONBLOCK) < 0) {
                throw new IllegalStateException("fcntl(" + fd + ", O_NONBLOCK) failed: " + Errno.name(libc.errno()));
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /**
     * Asks for a pipe buffer of {@code bytes} (fcntl F_SETPIPE_SZ). Best effort: the kernel rounds up
     * to a power of two of pages, and refuses past pipe-max-size or a user over the pipe page limits.
     *
     * @return the pipe's new capacity, or -1 if it kept its old one
     */
    public int setPipeSize(int fd, int bytes) {
        try {
            return (int) libc.fcntl.handle().invokeExact(libc.errnoSegment(), fd, Libc.F_SETPIPE_SZ, bytes);
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /** kill(pid, signal): 0, or the errno (ESRCH = 3 is normal for a process that is gone). -pgid for a group. */
    public int kill(int pid, int signal) {
        try {
            int rc = (int) libc.kill.handle().invokeExact(libc.errnoSegment(), pid, signal);
            return rc == 0 ? 0 : libc.errno();
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /** Blocks in waitpid(-1) until any child ends; empty when there is no child at all (ECHILD). */
    public Optional<WaitResult> waitAnyChild() {
        return waitFor(-1);
    }

    /** Blocks in waitpid(pid) until that child ends; empty if it is not (or no longer) our child. */
    public Optional<WaitResult> waitChild(int pid) {
        return waitFor(pid);
    }

    /**
     * Blocks until any child has ended and returns its pid, leaving it a zombie (waitid WNOWAIT):
     * while the zombie exists its pid, and so its process group id, cannot be reused, so the group
     * can still be killed safely. Reap it afterwards with {@link #waitChild}. Empty on ECHILD.
     */
    public OptionalInt waitAnyChildNoReap() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(Libc.SIGINFO_BYTES, 8);
            while (true) {
                int rc = (int) libc.waitid.handle().invokeExact(libc.errnoSegment(), Libc.P_ALL, 0, info,
                        Libc.WEXITED | Libc.WNOWAIT);
                if (rc == 0) {
                    return OptionalInt.of(info.get(JAVA_INT, Libc.SIGINFO_PID_OFFSET));
                }
                int errno = libc.errno();
                if (errno == Libc.ECHILD) {
                    return OptionalInt.empty();
                }
                if (errno != Libc.EINTR) {
                    throw new IllegalStateException("waitid failed: " + Errno.name(errno));
                }
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    private Optional<WaitResult> waitFor(int which) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(JAVA_INT);
            while (true) {
                int pid = (int) libc.waitpid.handle().invokeExact(libc.errnoSegment(), which, status, 0);
                if (pid > 0) {
                    return Optional.of(WaitResult.fromStatus(pid, status.get(JAVA_INT, 0)));
                }
                int errno = libc.errno();
                if (errno == Libc.ECHILD) {
                    return Optional.empty();
                }
                if (errno != Libc.EINTR) {
                    throw new IllegalStateException("waitpid(" + which + ") failed: " + Errno.name(errno));
                }
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /** Orphaned descendants reparent to this process instead of init, so we can reap them. */
    public void becomeChildSubreaper() {
        try {
            int rc = (int) libc.prctl.handle().invokeExact(libc.errnoSegment(), Libc.PR_SET_CHILD_SUBREAPER, 1L);
            if (rc != 0) {
                throw new IllegalStateException("prctl(PR_SET_CHILD_SUBREAPER) failed: " + Errno.name(libc.errno()));
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /**
     * pidfd_open(pid): a descriptor that becomes readable when the process ends, for a process that
     * is not our child (whose end waitpid cannot see), e.g. in an {@link Epoll}. Close-on-exec.
     *
     * @return the fd, or {@code -errno} (ESRCH = -3: no such process)
     */
    public int pidfdOpen(int pid) {
        try {
            long rc = (long) libc.syscall.handle().invokeExact(libc.errnoSegment(), Libc.SYS_PIDFD_OPEN, pid, 0);
            return rc >= 0 ? (int) rc : -libc.errno();
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    public int getpid() {
        try {
            return (int) libc.getpid.handle().invokeExact();
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }
}
