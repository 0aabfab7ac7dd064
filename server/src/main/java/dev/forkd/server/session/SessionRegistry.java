package dev.forkd.server.session;

import dev.forkd.server.error.ForkdException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToIntFunction;

/**
 * Sessions: leases that own what a client acquired. A session ends when its client closes it,
 * when its stream ends, or when its lease is not renewed within its TTL; then every owner
 * registered with {@link #onEnd} releases what the session held.
 */
public final class SessionRegistry {

    public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);
    public static final Duration MIN_TTL = Duration.ofMillis(100);
    public static final Duration MAX_TTL = Duration.ofHours(1);

    private final ScheduledExecutorService timers;
    private final int maxSessions;
    private final Map<String, Lease> sessions = new ConcurrentHashMap<>();
    private final List<ToIntFunction<String>> endHooks = new CopyOnWriteArrayList<>();
    private final AtomicLong seq = new AtomicLong();
    private final java.security.SecureRandom random = new java.security.SecureRandom();

    private byte[] nextBytes() {
        byte[] b = new byte[8];
        random.nextBytes(b);
        return b;
    }

    private static final class Lease {
        final String id;
        final String name;
        final Duration ttl;
        ScheduledFuture<?> expiry;

        Lease(String id, String name, Duration ttl) {
            this.id = id;
            this.name = name;
            this.ttl = ttl;
        }
    }

    public SessionRegistry(ScheduledExecutorService timers, int maxSessions) {
        this.timers = timers;
        this.maxSessions = maxSessions;
    }

    /** Registers what must be released when a session ends; returns how many things it released. */
    public void onEnd(ToIntFunction<String> hook) {
        endHooks.add(hook);
    }

    public String open(String name, Duration ttl) {
        if (ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(MAX_TTL) > 0) {
            throw new ForkdException.InvalidArgument("ttl",
                    "must be between " + MIN_TTL.toMillis() + " ms and " + MAX_TTL.toHours() + " h");
        }
        if (sessions.size() >= maxSessions) {
            throw new ForkdException.ResourceExhausted("TOO_MANY_SESSIONS",
                    "there are already " + sessions.size() + " sessions (max " + maxSessions + ")");
        }
        // Unguessable: a session id is what lets a caller act as the owner.
        String id = "s-" + seq.incrementAndGet() + "-" + java.util.HexFormat.of().formatHex(nextBytes());
        Lease lease = new Lease(id, name, ttl);
        sessions.put(id, lease);
        renew(id);
        return id;
    }

    /**
     * Opens a session with no lease: it lives until {@link #end} (used for each child process,
     * whose session ends when the child exits).
     */
    public String openUnleased(String name) {
        if (sessions.size() >= maxSessions) {
            throw new ForkdException.ResourceExhausted("TOO_MANY_SESSIONS",
                    "there are already " + sessions.size() + " sessions (max " + maxSessions + ")");
        }
        String id = "s-" + seq.incrementAndGet() + "-" + java.util.HexFormat.of().formatHex(nextBytes());
        sessions.put(id, new Lease(id, name, Duration.ZERO));
        return id;
    }

    /** Extends the lease by its TTL from now. */
    public void renew(String id) {
        Lease lease = sessions.get(id);
        if (lease == null) {
            throw new ForkdException.NotFound("session", id);
        }
        synchronized (lease) {
            if (lease.expiry != null) {
                lease.expiry.cancel(false);
            }
            if (lease.ttl.isZero()) {
                return; // unleased: ended explicitly
            }
            lease.expiry = timers.schedule(() -> end(id), lease.ttl.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Ends a session and releases what it owned; returns how many things were released. */
    public int end(String id) {
        Lease lease = sessions.remove(id);
        if (lease == null) {
            return 0;
        }
        synchronized (lease) {
            if (lease.expiry != null) {
                lease.expiry.cancel(false);
            }
        }
        int released = 0;
        for (ToIntFunction<String> hook : endHooks) {
            released += hook.applyAsInt(id);
        }
        return released;
    }

    public boolean exists(String id) {
        return sessions.containsKey(id);
    }

    /** @throws ForkdException.NotFound if the session does not exist (ended or never opened) */
    public void require(String id) {
        if (!exists(id)) {
            throw new ForkdException.NotFound("session", id);
        }
    }

    public int count() {
        return sessions.size();
    }
}
