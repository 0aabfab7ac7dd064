package dev.forkd.server.agent;

import dev.forkd.posix.Epoll;
import dev.forkd.posix.EventFd;
import dev.forkd.posix.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Tells when an adopted agent ends. An agent launched by an earlier supervisor is not this one's
 * child, so waitpid cannot see it: each is watched through a pidfd, which becomes readable when the
 * process ends, all on one epoll and one thread (an event, not a poll; no thread per agent).
 */
final class AdoptedAgentWatch implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AdoptedAgentWatch.class.getName());
    private static final long WAKE_TOKEN = 0;

    private record Watched(int pidfd, Runnable onExit) {}

    private final Posix posix;
    private final Epoll epoll;
    private final EventFd wake;
    private final Map<Long, Watched> byToken = new ConcurrentHashMap<>();
    private final AtomicLong nextToken = new AtomicLong(WAKE_TOKEN);
    private final Thread thread;
    private volatile boolean closed;

    AdoptedAgentWatch(Posix posix) {
        this.posix = posix;
        this.epoll = new Epoll(posix);
        this.wake = new EventFd(posix);
        epoll.add(wake.fd(), Epoll.IN, WAKE_TOKEN);
        this.thread = Thread.ofPlatform().name("forkd-adopted-agents").daemon().start(this::loop);
    }

    /**
     * Calls {@code onExit} once when {@code pid} ends.
     *
     * @return false if it is gone already (then {@code onExit} is not called)
     */
    boolean watch(int pid, Runnable onExit) {
        int fd = posix.pidfdOpen(pid);
        if (fd < 0) {
            return false;
        }
        long token = nextToken.incrementAndGet();
        byToken.put(token, new Watched(fd, onExit));
        epoll.add(fd, Epoll.IN, token);
        return true;
    }

    private void loop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(8);
            while (!closed) {
                int n = epoll.await(-1);
                for (int i = 0; i < n; i++) {
                    long token = epoll.token(i);
                    if (token == WAKE_TOKEN) {
                        wake.clear(scratch);
                        continue;
                    }
                    Watched w = byToken.remove(token);
                    if (w != null) {
                        epoll.remove(w.pidfd());
                        posix.close(w.pidfd());
                        try {
                            w.onExit().run();
                        } catch (RuntimeException e) {
                            LOG.log(Level.WARNING, "handling the end of an adopted agent failed", e);
                        }
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        wake.signal();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        byToken.values().forEach(w -> posix.close(w.pidfd()));
        byToken.clear();
        if (!thread.isAlive()) {
            epoll.close();
            wake.close();
        }
    }
}
