package dev.forkd.server.session;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreRow;
import dev.forkd.server.store.StoreWrite;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * Sessions: leases that own what a client acquired. A session ends when its client closes it,
 * when its stream ends, or when its lease is not renewed within its TTL; then every owner
 * registered with {@link #onEnd} releases what the session held.
 *
 * <p>A session has a public id, which names it anywhere (lock holders, process info) and lets nobody
 * act as it, and a credential, a secret handed out once by {@link #open}. Only the credential acts as
 * the session ({@link #authenticate}). The registry keeps a SHA-256 of each credential, never the
 * credential, so nothing it holds or shows can be replayed.
 *
 * <p>Sessions are kept in the store (README "Restarts and durability"). After a restart a kept
 * session is back with its credential, not kept alive by any stream: its client {@link #resume}s it
 * with its credential within its TTL (counted from {@link #startRestoredLeases}) and keeps all it
 * owned; one that does not come back ends as any session does. A child's unleased session comes
 * back with its process.
 */
public final class SessionRegistry {

    public static final Duration DEFAULT_TTL = Duration.ofSeconds(10);
    public static final Duration MIN_TTL = Duration.ofMillis(100);
    public static final Duration MAX_TTL = Duration.ofHours(1);
    /** A session's name is a label for humans; this keeps its record small. */
    public static final int MAX_NAME_LENGTH = 256;
    /** 256 random bits: far past guessing, and the hash of one cannot be turned back into it. */
    private static final int CREDENTIAL_BYTES = 32;
    /** Marks a forkd session credential, so secret scanners and people can tell one when they see it. */
    static final String CREDENTIAL_PREFIX = "fksc_";

    private final ScheduledExecutorService timers;
    private final StateStore store;
    private final int maxSessions;
    private final Map<String, Lease> sessions = new ConcurrentHashMap<>();
    /** By the hex SHA-256 of the credential. */
    private final Map<String, Lease> byCredentialHash = new ConcurrentHashMap<>();
    private final List<ToIntFunction<String>> endHooks = new CopyOnWriteArrayList<>();
    private final List<ToIntFunction<String>> processHooks = new CopyOnWriteArrayList<>();
    private final AtomicLong seq = new AtomicLong();
    private final SecureRandom random = new SecureRandom();
    private volatile boolean serverStopping;

    /** A session just opened: its public id, and the credential only its opener learns. */
    public record Opened(String id, String credential) {
        @Override
        public String toString() {
            return "Opened[id=" + id + ", credential=<secret>]"; // never into a log by accident
        }
    }

    /**
     * Who a credential names: the session's public id, and the child process the session belongs to
     * (empty for a session the admin opened).
     */
    public record Identity(String id, Optional<String> boundProcess) {}

    /** A session resumed by its client after a restart: its public id and its own TTL. */
    public record Resumed(String id, Duration ttl, Optional<String> boundProcess) {}

    private static final class Lease {
        final String id;
        final String name;
        final Duration ttl;
        final String credentialHash;
        final Optional<String> boundProcess;
        /** Loaded from the store and not yet resumed: no stream keeps it alive. */
        boolean restored;
        ScheduledFuture<?> expiry;

        Lease(String id, String name, Duration ttl, String credentialHash, Optional<String> boundProcess) {
            this.id = id;
            this.name = name;
            this.ttl = ttl;
            this.credentialHash = credentialHash;
            this.boundProcess = boundProcess;
        }
    }

    public SessionRegistry(ScheduledExecutorService timers, int maxSessions) {
        this(timers, maxSessions, StateStore.none());
    }

    /**
     * A registry kept in {@code store}, starting with the sessions it holds. Their leases start with
     * {@link #startRestoredLeases}, once whatever releases a session's holdings is registered.
     */
    public SessionRegistry(ScheduledExecutorService timers, int maxSessions, StateStore store) {
        this.timers = timers;
        this.maxSessions = maxSessions;
        this.store = store;
        long highest = 0;
        for (StoreRow row : store.load(SessionRecords.KIND)) {
            SessionRecords.Kept k = SessionRecords.decode(row.key(), row.value());
            Lease lease = new Lease(k.id(), k.name(), k.ttl(), k.credentialHash(), k.boundProcess());
            lease.restored = true;
            sessions.put(lease.id, lease);
            byCredentialHash.put(lease.credentialHash, lease);
            highest = Math.max(highest, number(lease.id));
        }
        for (StoreRow row : store.load(SessionRecords.LAST_ID_KIND)) {
            highest = Math.max(highest, row.longValue("the last session id"));
        }
        seq.set(highest); // a new session never takes the id of one before it, kept or ended
    }

    private static long number(String id) {
        try {
            return id.startsWith("s-") ? Long.parseLong(id.substring(2)) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * Starts the lease of every session loaded from the store: each has its TTL from now to be
     * resumed. A child's session whose process the server does not know ({@code processKnown}) ends
     * now; one whose process is known lives until that process's run ends, as before the restart.
     */
    public void startRestoredLeases(Predicate<String> processKnown) {
        for (Lease lease : List.copyOf(sessions.values())) {
            if (!lease.restored) {
                continue;
            }
            if (lease.ttl.isZero()) {
                if (lease.boundProcess.isEmpty() || !processKnown.test(lease.boundProcess.get())) {
                    end(lease.id);
                }
            } else {
                renew(lease.id);
            }
        }
    }

    /**
     * Resumes, with its credential, a session kept across a restart: a new keep-alive stream keeps
     * it, with all it owns. A session already kept alive by a stream is resumed too (it then lives
     * while both do); a child's unleased session needs no keep-alive and is refused.
     *
     * @throws ForkdException.Unauthenticated if the credential is no open session's
     */
    public Resumed resume(String credential) {
        Identity who = authenticate(credential).orElseThrow(() -> new ForkdException.Unauthenticated(
                "SESSION_CREDENTIAL_INVALID", "credential: not the credential of an open session (it ended, or its"
                        + " lease ran out before it was resumed)"));
        Lease lease = sessions.get(who.id());
        if (lease == null) {
            throw new ForkdException.Unauthenticated("SESSION_CREDENTIAL_INVALID",
                    "credential: the session ended while it was resumed");
        }
        if (lease.ttl.isZero()) {
            throw new ForkdException.InvalidArgument("credential", "names a process's own session, which lives as"
                    + " long as its process and needs no keep-alive stream");
        }
        synchronized (lease) {
            lease.restored = false;
        }
        renew(lease.id);
        return new Resumed(lease.id, lease.ttl, lease.boundProcess);
    }

    /** Registers what must be released when a session ends (the hook answers how many it released). */
    public void onEnd(ToIntFunction<String> hook) {
        endHooks.add(hook);
    }

    /**
     * Registers the hook that terminates a session's daemon processes; {@link #end} answers its count
     * alone (CloseSessionResponse.terminated_processes counts processes, not locks or deliveries).
     */
    public void onEndTerminateProcesses(ToIntFunction<String> hook) {
        processHooks.add(hook);
    }

    /** Opens a leased session of the admin. */
    public Opened open(String name, Duration ttl) {
        return open(name, ttl, Optional.empty());
    }

    /**
     * Opens a leased session; {@code boundProcess} is the child that opened it, whose calls with it
     * stay that child's calls.
     */
    public Opened open(String name, Duration ttl, Optional<String> boundProcess) {
        if (ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(MAX_TTL) > 0) {
            throw new ForkdException.InvalidArgument("ttl",
                    "must be between " + MIN_TTL.toMillis() + " ms and " + MAX_TTL.toHours() + " h");
        }
        Opened opened = add(name, ttl, boundProcess);
        renew(opened.id());
        return opened;
    }

    /**
     * Opens a session with no lease for one run of a child process: it lives until {@link #end}
     * (when the run ends), and its credential makes the child's calls child calls.
     */
    public Opened openUnleased(String name, String processId) {
        return add(name, Duration.ZERO, Optional.of(processId));
    }

    private Opened add(String name, Duration ttl, Optional<String> boundProcess) {
        if (name.length() > MAX_NAME_LENGTH) {
            throw new ForkdException.InvalidArgument("name", "must be at most " + MAX_NAME_LENGTH + " characters");
        }
        if (sessions.size() >= maxSessions) {
            throw new ForkdException.ResourceExhausted("TOO_MANY_SESSIONS",
                    "there are already " + sessions.size() + " sessions (max " + maxSessions + ")");
        }
        byte[] secret = new byte[CREDENTIAL_BYTES];
        random.nextBytes(secret);
        String credential = CREDENTIAL_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        String hash = hash(credential);
        String id;
        // The id and its write in one step: the last-id writes reach the store in increasing order.
        synchronized (seq) {
            long n = seq.incrementAndGet();
            id = "s-" + n;
            // Not waited for: whatever the session then owns is kept by later writes, which commit
            // after this one; a session lost with nothing kept owned nothing that could be kept.
            store.write(List.of(
                    new StoreWrite.Put(SessionRecords.KIND, id, SessionRecords.encode(
                            new SessionRecords.Kept(id, name, ttl, hash, boundProcess))),
                    StoreWrite.Put.ofLong(SessionRecords.LAST_ID_KIND, SessionRecords.LAST_ID_KEY, n)));
        }
        Lease lease = new Lease(id, name, ttl, hash, boundProcess);
        byCredentialHash.put(lease.credentialHash, lease);
        sessions.put(id, lease);
        return new Opened(id, credential);
    }

    /**
     * The open session this credential acts as, if any. The lookup is by the credential's hash, so
     * its timing says nothing about the credential; the final compare is constant-time besides.
     */
    public Optional<Identity> authenticate(String credential) {
        if (credential == null || !credential.startsWith(CREDENTIAL_PREFIX)) {
            return Optional.empty();
        }
        String h = hash(credential);
        Lease lease = byCredentialHash.get(h);
        if (lease == null || !MessageDigest.isEqual(h.getBytes(StandardCharsets.US_ASCII),
                lease.credentialHash.getBytes(StandardCharsets.US_ASCII)) || !sessions.containsKey(lease.id)) {
            return Optional.empty();
        }
        return Optional.of(new Identity(lease.id, lease.boundProcess));
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

    /**
     * The server is stopping: the keep-alive streams it is about to cut end no session, so the next
     * server finds them kept, to be resumed. A session closed or expired meanwhile still ends.
     */
    public void serverStopping() {
        serverStopping = true;
    }

    /** A session's keep-alive stream broke: the session ends, unless it is the server that is stopping. */
    public void streamLost(String id) {
        if (!serverStopping) {
            end(id);
        }
    }

    /** Ends a session and releases what it owned; returns how many of its processes were terminated. */
    public int end(String id) {
        Lease lease = sessions.remove(id);
        if (lease == null) {
            return 0;
        }
        byCredentialHash.remove(lease.credentialHash, lease);
        store.delete(SessionRecords.KIND, id);
        synchronized (lease) {
            if (lease.expiry != null) {
                lease.expiry.cancel(false);
            }
        }
        int terminated = 0;
        for (ToIntFunction<String> hook : processHooks) {
            terminated += hook.applyAsInt(id);
        }
        for (ToIntFunction<String> hook : endHooks) {
            hook.applyAsInt(id);
        }
        return terminated;
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

    private static String hash(String credential) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(credential.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
