package dev.forkd.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Learns when a process that is not our child exits, as an event: Linux's pidfd for the process
 * becomes readable when it exits, and a thread of our own waits in poll(2) on it. Where pidfd_open
 * is missing (glibc before 2.36, Linux before 5.3) it falls back to the JDK's
 * {@link ProcessHandle#onExit}, which for a process that is not our child checks every few seconds.
 */
final class ProcessExitWatch {

    private static final short POLLIN = 0x1;
    private static final int EINTR = 4;

    private ProcessExitWatch() {}

    /** Completes when process {@code pid} has exited (at once if there is no such process). */
    static CompletableFuture<Void> onExit(long pid) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        Optional<Integer> pidfd = pidfdOpen(pid);
        if (pidfd.isEmpty()) {
            return handle.get().onExit().thenApply(p -> null);
        }
        CompletableFuture<Void> exited = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("forkd-watch-" + pid).start(() -> {
            if (!awaitReadable(pidfd.get())) {
                handle.get().onExit().join(); // poll(2) failed: the JDK's slower watch, never a false "gone"
            }
            exited.complete(null);
        });
        return exited;
    }

    private static Optional<Integer> pidfdOpen(long pid) {
        Linker linker = Linker.nativeLinker();
        Optional<MemorySegment> symbol = linker.defaultLookup().find("pidfd_open");
        if (symbol.isEmpty()) {
            return Optional.empty();
        }
        try {
            MethodHandle open = linker.downcallHandle(symbol.get(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            int fd = (int) open.invokeExact((int) pid, 0);
            return fd >= 0 ? Optional.of(fd) : Optional.empty();
        } catch (Throwable e) {
            return Optional.empty(); // no native access: the JDK's watch will do
        }
    }

    /** Blocks until {@code fd} is readable (a pidfd: its process exited); false if it cannot be polled. */
    private static boolean awaitReadable(int fd) {
        Linker linker = Linker.nativeLinker();
        var capture = Linker.Option.captureCallState("errno");
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle poll = linker.downcallHandle(linker.defaultLookup().find("poll").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT), capture);
            var stateLayout = Linker.Option.captureStateLayout();
            MemorySegment state = arena.allocate(stateLayout);
            var errno = stateLayout.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
            // struct pollfd { int fd; short events; short revents; }
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(ValueLayout.JAVA_INT, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, POLLIN);
            while (true) {
                int n = (int) poll.invokeExact(state, pfd, 1L, -1);
                if (n >= 0) {
                    return true;
                }
                if ((int) errno.get(state, 0L) != EINTR) {
                    return false;
                }
            }
        } catch (Throwable e) {
            return false;
        }
    }
}
