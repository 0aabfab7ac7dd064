package dev.forkd.server.watch;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How many process and shared-object watches may be open: each holds a registration on the watched
 * record and, for a client that reads slowly, up to its transport buffer of messages. One client
 * once opened 20,000 follow-watches and every one was accepted. So there is a cap per session (one
 * client cannot take every watch the server allows), a cap on the whole server, and each open watch
 * holds its buffer's worth of the server's {@link MemoryBudget}.
 *
 * <p>A watch without a session (an admin client that opened none) counts only against the server's
 * cap and the budget. Plain Java; the gRPC adapters admit a watch before they register it and close
 * its {@link Ticket} when it ends, however it ends.
 */
public final class WatchAdmission {

    /** The ErrorInfo reason when a session has as many watches open as it may. */
    public static final String REASON_SESSION = "SESSION_WATCH_LIMIT";
    /** The ErrorInfo reason when the server has as many watches open as it may. */
    public static final String REASON_SERVER = "SERVER_WATCH_LIMIT";

    /**
     * @param perSession the most watches one session may have open at once
     * @param total the most watches the server keeps open at once
     */
    public record Limits(int perSession, int total) {
        /**
         * Far more than any client watching its own work needs (one per process it follows), few
         * enough that the registrations and streams of all of them are a small part of the heap.
         */
        public static final Limits DEFAULT = new Limits(1_000, 10_000);

        public Limits {
            if (perSession < 1 || total < perSession) {
                throw new IllegalArgumentException("watch limits need 1 <= perSession <= total, got "
                        + perSession + " and " + total);
            }
        }
    }

    /** An admitted watch. Closing gives its place and its bytes back; closing again does nothing. */
    public interface Ticket extends AutoCloseable {
        @Override
        void close();
    }

    private final Limits limits;
    private final MemoryBudget memory;
    // Guarded by this. Sessions with no open watch are removed, so the map is bounded by total.
    private final Map<String, Integer> perSession = new HashMap<>();
    private int open;

    public WatchAdmission(Limits limits, MemoryBudget memory) {
        this.limits = limits;
        this.memory = memory;
    }

    /** No caps and no budget: for adapters tested on other things. */
    public static WatchAdmission unlimited() {
        return new WatchAdmission(new Limits(Integer.MAX_VALUE, Integer.MAX_VALUE), MemoryBudget.unlimited());
    }

    public Limits limits() {
        return limits;
    }

    /** Watches open now. */
    public synchronized int open() {
        return open;
    }

    /** Watches {@code session} has open now. */
    public synchronized int openBy(String session) {
        return perSession.getOrDefault(session, 0);
    }

    /**
     * Admits one watch of {@code what} (in the user's words, e.g. "process p-12") for {@code session},
     * holding {@code bufferBytes} of the memory budget while it is open.
     *
     * @throws ForkdException.ResourceExhausted naming the cap that is reached, or the budget; nothing
     *     is counted then
     */
    public Ticket admit(Optional<String> session, long bufferBytes, String what) {
        synchronized (this) {
            if (open >= limits.total()) {
                throw new ForkdException.ResourceExhausted(REASON_SERVER, "the server has " + open
                        + " watches open, the most it keeps (" + limits.total() + "); cannot watch " + what
                        + ": end watches that are no longer read", Map.of("limit", Integer.toString(limits.total())));
            }
            int mine = session.map(s -> perSession.getOrDefault(s, 0)).orElse(0);
            if (session.isPresent() && mine >= limits.perSession()) {
                throw new ForkdException.ResourceExhausted(REASON_SESSION, "session " + session.get() + " has "
                        + mine + " watches open, the most one session may (" + limits.perSession()
                        + "); cannot watch " + what + ": end watches that are no longer read",
                        Map.of("limit", Integer.toString(limits.perSession()), "session", session.get()));
            }
            memory.reserve(bufferBytes, "a watch of " + what);
            open++;
            session.ifPresent(s -> perSession.merge(s, 1, Integer::sum));
        }
        AtomicBoolean closed = new AtomicBoolean();
        return () -> {
            if (closed.compareAndSet(false, true)) {
                release(session, bufferBytes);
            }
        };
    }

    private synchronized void release(Optional<String> session, long bufferBytes) {
        open--;
        session.ifPresent(s -> perSession.computeIfPresent(s, (k, n) -> n == 1 ? null : n - 1));
        memory.release(bufferBytes);
    }
}
