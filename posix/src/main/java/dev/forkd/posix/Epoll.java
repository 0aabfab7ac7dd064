package dev.forkd.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * An epoll instance. {@link #add}, {@link #remove} may be called from any thread; {@link #await}
 * and the event accessors belong to the one thread that runs the event loop.
 */
public final class Epoll implements AutoCloseable {
    public static final int IN = 0x001;
    public static final int OUT = 0x004;
    public static final int ERR = 0x008;
    public static final int HUP = 0x010;
    public static final int EDGE_TRIGGERED = 1 << 31;

    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    /** struct epoll_event is packed on x86_64: u32 events, then u64 data at offset 4. */
    private static final MemoryLayout EVENT = MemoryLayout.structLayout(
            JAVA_INT.withName("events"), JAVA_LONG_UNALIGNED.withName("data"));
    private static final int MAX_EVENTS = 256;

    private final Posix posix;
    private final Libc libc;
    private final int epfd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment events = arena.allocate(EVENT.byteSize() * MAX_EVENTS, 8);

    public Epoll(Posix posix) {
        this.posix = posix;
        this.libc = posix.libc();
        try {
            epfd = (int) libc.epollCreate1.handle().invokeExact(libc.errnoSegment(), Libc.O_CLOEXEC);
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
        if (epfd < 0) {
            throw new IllegalStateException("epoll_create1 failed: " + Errno.name(libc.errno()));
        }
    }

    /** Watches fd for the given events; the token comes back with each of its events. */
    public void add(int fd, int interest, long token) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment event = call.allocate(EVENT);
            event.set(JAVA_INT, 0, interest);
            event.set(JAVA_LONG_UNALIGNED, 4, token);
            int rc = (int) libc.epollCtl.handle().invokeExact(libc.errnoSegment(), epfd, EPOLL_CTL_ADD, fd, event);
            if (rc != 0) {
                throw new IllegalStateException("epoll_ctl(ADD, " + fd + ") failed: " + Errno.name(libc.errno()));
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /** Stops watching fd; call before closing it, so a reused fd number never carries old interest. */
    public void remove(int fd) {
        try {
            int ignored = (int) libc.epollCtl.handle().invokeExact(libc.errnoSegment(), epfd, EPOLL_CTL_DEL, fd,
                    MemorySegment.NULL);
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    /** Waits up to timeoutMillis (-1: no limit) and returns how many events are ready; 0 on EINTR. */
    public int await(int timeoutMillis) {
        try {
            int n = (int) libc.epollWait.handle().invokeExact(libc.errnoSegment(), epfd, events, MAX_EVENTS, timeoutMillis);
            if (n >= 0) {
                return n;
            }
            int errno = libc.errno();
            if (errno == Libc.EINTR) {
                return 0;
            }
            throw new IllegalStateException("epoll_wait failed: " + Errno.name(errno));
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.fail(t);
        }
    }

    public int events(int index) {
        return events.get(JAVA_INT, index * EVENT.byteSize());
    }

    public long token(int index) {
        return events.get(JAVA_LONG_UNALIGNED, index * EVENT.byteSize() + 4);
    }

    @Override
    public void close() {
        posix.close(epfd);
        arena.close();
    }
}
