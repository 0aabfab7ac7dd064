package dev.forkd.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The raw libc downcall handles (Linux x86_64, glibc). Handles that can fail with errno take a
 * leading capture-state segment; see {@link #errnoSegment()}.
 */
final class Libc {
    static final int EINTR = 4;
    static final int ECHILD = 10;
    static final int EAGAIN = 11;
    static final int EPIPE = 32;
    /** x86_64 syscall number of pidfd_open (Linux 5.3). */
    static final long SYS_PIDFD_OPEN = 434;

    static final int O_RDWR = 0x2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int F_SETPIPE_SZ = 1031;
    static final int PR_SET_CHILD_SUBREAPER = 36;
    static final int P_ALL = 0;
    static final int WEXITED = 4;
    static final int WNOWAIT = 0x01000000;
    /** siginfo_t is 128 bytes; for SIGCHLD si_pid is the int at offset 16 on x86_64. */
    static final long SIGINFO_BYTES = 128;
    static final long SIGINFO_PID_OFFSET = 16;

    /** glibc's sigset_t is 1024 bits. */
    static final long SIGSET_BYTES = 128;
    /** posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336 in glibc 2.36; room to spare. */
    static final long OPAQUE_BYTES = 1024;

    final StructLayout captureLayout = Linker.Option.captureStateLayout();
    private final VarHandle errnoHandle =
            captureLayout.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    /** One capture segment per thread, freed with the thread: no allocation per call on hot paths. */
    private final ThreadLocal<MemorySegment> errnoSegments =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(captureLayout));

    final Downcall posixSpawn;
    final Downcall fileActionsInit;
    final Downcall fileActionsDestroy;
    final Downcall fileActionsAddDup2;
    final Downcall fileActionsAddOpen;
    final Downcall fileActionsAddChdir;
    final Downcall fileActionsAddClosefrom;
    final Downcall attrInit;
    final Downcall attrDestroy;
    final Downcall attrSetFlags;
    final Downcall attrSetPgroup;
    final Downcall attrSetSigmask;
    final Downcall attrSetSigdefault;
    final Downcall sigemptyset;
    final Downcall sigfillset;
    final Downcall pipe2;
    final Downcall read;
    final Downcall write;
    final Downcall close;
    final Downcall fcntl;
    final Downcall kill;
    final Downcall waitpid;
    final Downcall waitid;
    final Downcall prctl;
    final Downcall getpid;
    final Downcall epollCreate1;
    final Downcall epollCtl;
    final Downcall epollWait;
    final Downcall eventfd;
    final Downcall syscall;

    Libc() {
        Linker linker = Linker.nativeLinker();
        SymbolLookup lookup = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        Binder plain = (name, fd, options) -> new Downcall(linker, lookup, name, fd, options);

        posixSpawn = plain.bind("posix_spawn",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        fileActionsInit = plain.bind("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        fileActionsDestroy = plain.bind("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        fileActionsAddDup2 = plain.bind("posix_spawn_file_actions_adddup2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        fileActionsAddOpen = plain.bind("posix_spawn_file_actions_addopen",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        fileActionsAddChdir = plain.bind("posix_spawn_file_actions_addchdir_np",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        fileActionsAddClosefrom = plain.bind("posix_spawn_file_actions_addclosefrom_np",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        attrInit = plain.bind("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        attrDestroy = plain.bind("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        attrSetFlags = plain.bind("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
        attrSetPgroup = plain.bind("posix_spawnattr_setpgroup", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        attrSetSigmask = plain.bind("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        attrSetSigdefault = plain.bind("posix_spawnattr_setsigdefault",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        sigemptyset = plain.bind("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        sigfillset = plain.bind("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        pipe2 = plain.bind("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errno);
        read = plain.bind("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), errno);
        write = plain.bind("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), errno);
        close = plain.bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
        fcntl = plain.bind("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
                errno, Linker.Option.firstVariadicArg(2));
        kill = plain.bind("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errno);
        waitpid = plain.bind("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), errno);
        waitid = plain.bind("waitid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), errno);
        prctl = plain.bind("prctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG),
                errno, Linker.Option.firstVariadicArg(1));
        getpid = plain.bind("getpid", FunctionDescriptor.of(JAVA_INT));
        epollCreate1 = plain.bind("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
        epollCtl = plain.bind("epoll_ctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), errno);
        epollWait = plain.bind("epoll_wait",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), errno);
        eventfd = plain.bind("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errno);
        // pidfd_open has no glibc wrapper before 2.36: called as syscall(SYS_pidfd_open, pid, flags).
        syscall = plain.bind("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT),
                errno, Linker.Option.firstVariadicArg(1));
    }

    /** This thread's capture-state segment, to pass as the first argument of an errno-capturing handle. */
    MemorySegment errnoSegment() {
        return errnoSegments.get();
    }

    /** The errno captured by the last errno-capturing call on this thread. */
    int errno() {
        return (int) errnoHandle.get(errnoSegments.get(), 0L);
    }

    /** Turns Throwable from invokeExact (which cannot happen for these signatures) into an Error. */
    static Error fail(Throwable t) {
        if (t instanceof Error e) {
            return e;
        }
        return new AssertionError("libc downcall failed", t);
    }

    /** Binds every handle now, so the first spawn does not pay for it; safe to call from any thread. */
    void bindAll() {
        for (Downcall d : new Downcall[] {posixSpawn, fileActionsInit, fileActionsDestroy, fileActionsAddDup2,
                fileActionsAddOpen, fileActionsAddChdir, fileActionsAddClosefrom, attrInit, attrDestroy,
                attrSetFlags, attrSetPgroup, attrSetSigmask, attrSetSigdefault, sigemptyset, sigfillset, pipe2,
                read, write, close, fcntl, kill, waitpid, waitid, prctl, getpid, epollCreate1, epollCtl,
                epollWait, eventfd, syscall}) {
            d.handle();
        }
    }

    @FunctionalInterface
    private interface Binder {
        Downcall bind(String name, FunctionDescriptor descriptor, Linker.Option... options);
    }

    /**
     * A libc function bound on first use. Binding spins code (tens of milliseconds each on a busy
     * machine), so the agent binds only what registering needs and the rest in the background.
     */
    static final class Downcall {
        private final Linker linker;
        private final SymbolLookup lookup;
        private final String name;
        private final FunctionDescriptor descriptor;
        private final Linker.Option[] options;
        private volatile MethodHandle handle;

        Downcall(Linker linker, SymbolLookup lookup, String name, FunctionDescriptor descriptor,
                 Linker.Option... options) {
            this.linker = linker;
            this.lookup = lookup;
            this.name = name;
            this.descriptor = descriptor;
            this.options = options.clone();
        }

        MethodHandle handle() {
            MethodHandle h = handle;
            if (h == null) {
                // Two threads may both bind; both handles are equivalent and one wins. No lock needed.
                h = linker.downcallHandle(lookup.find(name)
                        .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name)), descriptor, options);
                handle = h;
            }
            return h;
        }
    }
}
