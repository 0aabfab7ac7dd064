package dev.forkd.cli;

import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.AcquireRequest;
import dev.forkd.v1.AcquireResponse;
import dev.forkd.v1.CancelAcquireRequest;
import dev.forkd.v1.GetSyncRequest;
import dev.forkd.v1.ReleaseRequest;
import dev.forkd.v1.SyncKind;
import dev.forkd.v1.SyncServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Holders of one lock, each in a session of its own that must ride out the restarts: acquire, hold a
 * moment, release. Every fencing token answered is recorded; no token may repeat, across restarts
 * too, and each holder's tokens grow. After a restart each holder's session has resumed (not lost).
 * An Acquire whose answer is lost with the supervisor is undone by its wait id, as the Java and
 * Python libraries do; after a restart the lock is free or held by a holder that knows it may hold it.
 */
final class LockWorkload implements RestartWorkload {

    static final String LOCK = "chaos-lock";

    private final ForkdClient client;
    private final String label;
    private final Random random;
    private final List<Long> tokens;
    private ClientSession session;
    private SyncServiceGrpc.SyncServiceBlockingStub sync;
    private boolean mayHold;
    private int sessionsLost;
    private long lastToken = Long.MIN_VALUE;
    private int grants;

    /** {@code tokens} is shared by all holders of the lock (guarded by itself). */
    LockWorkload(ForkdClient client, String label, long seed, List<Long> tokens) {
        this.client = client;
        this.label = label;
        this.random = new Random(seed);
        this.tokens = tokens;
    }

    @Override
    public String name() {
        return "lock " + label;
    }

    private synchronized SyncServiceGrpc.SyncServiceBlockingStub sync() {
        if (session == null) {
            session = client.openSession("chaos " + label, Duration.ofSeconds(10), Duration.ofSeconds(30));
            sync = client.sync().withInterceptors(ForkdClient.sessionHeader(session.credential()));
        }
        return sync.withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @Override
    public void step() {
        if (mayHold) {
            release(); // a release cut off by a kill: the lock may still be ours
        }
        String waitId = java.util.UUID.randomUUID().toString();
        AcquireResponse got;
        try {
            got = sync().acquire(AcquireRequest.newBuilder().setName(LOCK).setWaitId(waitId)
                    .setKind(SyncKind.SYNC_KIND_LOCK).setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2)).build());
        } catch (StatusRuntimeException e) {
            undo(waitId); // granted just before the kill, perhaps: the answer is lost, the grant is not
            throw e;
        }
        if (!got.getAcquired()) {
            return;
        }
        synchronized (this) {
            grants++;
            mayHold = true;
            if (got.getFencingToken() <= lastToken) {
                tokens.add(Long.MIN_VALUE); // marks a token that went backwards for this holder
            }
            lastToken = got.getFencingToken();
        }
        synchronized (tokens) {
            tokens.add(got.getFencingToken());
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(random.nextInt(50))); // the critical section
        release();
    }

    /**
     * Undoes the Acquire {@code waitId}, waiting for the next supervisor if this one is away (a
     * documented back-off, as a real client's); within the session's lease, so the session holds.
     */
    private void undo(String waitId) {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                sync().cancelAcquire(CancelAcquireRequest.newBuilder().setName(LOCK).setWaitId(waitId).build());
                return;
            } catch (StatusRuntimeException e) {
                boolean away = e.getStatus().getCode() == Status.Code.UNAVAILABLE
                        || e.getStatus().getCode() == Status.Code.UNKNOWN; // grpc-java's "channel closed"
                if (!away || System.nanoTime() > giveUp) {
                    throw e;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
    }

    /** This holder's session's public id, while it has one. */
    synchronized Optional<String> sessionId() {
        return session == null ? Optional.empty() : Optional.of(session.publicId());
    }

    synchronized boolean mayHold() {
        return mayHold;
    }

    /**
     * With the traffic paused (each holder between steps): the lock is free, or held by a holder that
     * knows it may hold it. A grant nobody was told of (its answer lost with a supervisor, and not
     * undone) would leave it held by a session that waits on itself.
     */
    static List<String> heldUnknowingly(ForkdClient client, List<LockWorkload> holders, int restart) {
        String holder = client.sync().withDeadlineAfter(30, TimeUnit.SECONDS)
                .get(GetSyncRequest.newBuilder().setName(LOCK).build()).getInfo().getHolderSession();
        if (holder.isEmpty()) {
            return List.of();
        }
        for (LockWorkload w : holders) {
            if (w.sessionId().filter(holder::equals).isPresent()) {
                return w.mayHold() ? List.of()
                        : List.of("restart " + restart + ": " + w.name() + " holds " + LOCK + " without knowing it");
            }
        }
        return List.of(); // a session replaced after a loss: its locks pass on when it ends
    }

    private void release() {
        try {
            sync().release(ReleaseRequest.newBuilder().setName(LOCK).build());
        } catch (StatusRuntimeException e) {
            // Not held (the first release went through before a kill, or the lock passed on).
            if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) {
                throw e;
            }
        }
        synchronized (this) {
            mayHold = false;
        }
    }

    /**
     * The session has resumed after the restart, or it is lost: a problem when sessions are meant to
     * survive; either way a lost one is replaced, so the traffic goes on.
     */
    List<String> verifySession(int restart, boolean checked) throws InterruptedException {
        ClientSession s;
        synchronized (this) {
            s = session;
        }
        if (s == null) {
            return List.of();
        }
        try {
            s.whenConnected().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return List.of();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            synchronized (this) {
                sessionsLost++;
                session.close();
                session = null;
                mayHold = false;
            }
            return checked ? List.of("restart " + restart + ": " + name() + "'s session did not resume: " + e.getCause())
                    : List.of();
        }
    }

    @Override
    public List<String> verify(int restart, boolean checked) {
        return List.of(); // tokens are checked over all holders by tokenProblems
    }

    /** Repeated or backward tokens among everything answered so far. */
    static List<String> tokenProblems(List<Long> tokens) {
        List<String> problems = new ArrayList<>();
        synchronized (tokens) {
            if (tokens.contains(Long.MIN_VALUE)) {
                problems.add("a holder was given a fencing token not greater than its previous one");
            }
            long distinct = tokens.stream().filter(t -> t != Long.MIN_VALUE).distinct().count();
            long all = tokens.stream().filter(t -> t != Long.MIN_VALUE).count();
            if (distinct != all) {
                problems.add((all - distinct) + " fencing tokens were issued twice: " + tokens);
            }
        }
        return problems;
    }

    @Override
    public synchronized String figures() {
        return "grants " + grants + ", sessions lost " + sessionsLost;
    }

    @Override
    public synchronized void close() {
        if (session != null) {
            session.close();
        }
    }
}
