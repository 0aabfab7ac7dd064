package dev.forkd.posix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** A non-blocking eventfd: any thread may {@link #signal()} to wake an event loop waiting in epoll. */
public final class EventFd implements AutoCloseable {
    private static final int EFD_NONBLOCK = Libc.O_NONBLOCK;
    private static final int EFD_CLOEXEC = Libc.O_CLOEXEC;

    private final Posix posix;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    /** Written concurrently by signalling threads; only the kernel reads it, so sharing is safe. */
    private final MemorySegment one = arena.allocate(JAVA_LONG);

    public EventFd(Posix posix) {
        this.posix = posix;
        Libc libc = posix.libc();
        try {
            fd = (int) libc.eventfd.handle().invokeExact(libc.errnoSegment(), 0, EFD_NONBLOCK | EFD_CLOEXEC);
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
        if (fd < 0) {
            throw new IllegalStateException("eventfd failed: " + Errno.name(libc.errno()));
        }
        one.set(JAVA_LONG, 0, 1L);
    }

    public int fd() {
        return fd;
    }

    public void signal() {
        try {
            posix.write(fd, one, 8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Resets the counter; called by the event loop thread after it woke. */
    public void clear(MemorySegment scratch8) {
        try {
            posix.read(fd, scratch8, 8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        posix.close(fd);
        arena.close();
    }
}
