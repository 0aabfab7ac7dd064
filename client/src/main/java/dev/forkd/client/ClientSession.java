package dev.forkd.client;

import dev.forkd.v1.OpenSessionRequest;
import dev.forkd.v1.OpenSessionResponse;
import dev.forkd.v1.SessionServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A session held open by this client: the {@code Open} stream stays up and a renewal goes out every
 * third of the lease. Closing ends the stream, which ends the session and terminates its daemon
 * processes.
 *
 * <p>When the stream breaks (the server restarted, or crashed and came back), the session resumes on
 * a new stream with its credential, trying again with jittered back-off while the server cannot be
 * reached. A server that kept the session gives it back with everything it owned; one that did not
 * answers that the credential is no longer a session's, and only then is the session
 * {@linkplain #lost() lost}, and said so in the log.
 */
public final class ClientSession implements AutoCloseable {

    /** How long to keep trying to reach a server that went away before giving the session up. */
    public static final Duration RECONNECT_LIMIT = Duration.ofMinutes(5);
    static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(2);

    private static final System.Logger LOG = System.getLogger(ClientSession.class.getName());

    private final SessionServiceGrpc.SessionServiceStub stub;
    private final String publicId;
    private final String credential;
    private final Duration openTimeout;
    private final Duration reconnectLimit;
    private final ScheduledExecutorService timer;
    private final CompletableFuture<StatusRuntimeException> lost = new CompletableFuture<>();
    // All guarded by this.
    private SessionStream stream; // null while resuming
    private CompletableFuture<Void> live = CompletableFuture.completedFuture(null);
    private boolean closed;
    private long brokeAtNanos;
    private Duration backoff = FIRST_BACKOFF;

    private ClientSession(SessionServiceGrpc.SessionServiceStub stub, OpenSessionResponse opened, SessionStream stream,
            Duration openTimeout, Duration reconnectLimit, ScheduledExecutorService timer) {
        this.stub = stub;
        this.publicId = opened.getSessionId();
        this.credential = opened.getCredential();
        this.stream = stream;
        this.openTimeout = openTimeout;
        this.reconnectLimit = reconnectLimit;
        this.timer = timer;
    }

    static ClientSession open(
            SessionServiceGrpc.SessionServiceStub stub, String name, Duration ttl, Duration openTimeout) {
        return open(stub, name, ttl, openTimeout, RECONNECT_LIMIT);
    }

    static ClientSession open(SessionServiceGrpc.SessionServiceStub stub, String name, Duration ttl,
            Duration openTimeout, Duration reconnectLimit) {
        SessionStream first = SessionStream.start(stub, OpenSessionRequest.newBuilder()
                .setTtl(ProtoTime.of(ttl))
                .setName(name)
                .build());
        OpenSessionResponse opened = awaitFirst(first, openTimeout);
        long ttlMillis = opened.hasTtl() ? ProtoTime.of(opened.getTtl()).toMillis() : ttl.toMillis();
        long every = Math.max(100, ttlMillis / 3);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "forkd-session-renewal");
            t.setDaemon(true);
            return t;
        });
        ClientSession session = new ClientSession(stub, opened, first, openTimeout, reconnectLimit, timer);
        session.watch(first);
        timer.scheduleAtFixedRate(session::renew, every, every, TimeUnit.MILLISECONDS);
        return session;
    }

    /** The first answer on {@code s}, or the failure as a status exception (the stream then cancelled). */
    private static OpenSessionResponse awaitFirst(SessionStream s, Duration openTimeout) {
        try {
            return s.first.get(openTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            s.cancel("open failed");
            if (e.getCause() instanceof StatusRuntimeException sre) {
                throw sre;
            }
            throw Status.INTERNAL.withCause(e.getCause()).asRuntimeException();
        } catch (TimeoutException e) {
            s.cancel("open timed out");
            throw Status.DEADLINE_EXCEEDED
                    .withDescription("the server did not open a session within " + openTimeout.toMillis() + " ms")
                    .asRuntimeException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.cancel("interrupted");
            throw Status.CANCELLED.withCause(e).asRuntimeException();
        }
    }

    /** The session's public id, as lock holders and process info show it; it acts as nothing. */
    public String publicId() {
        return publicId;
    }

    /**
     * The secret to send as the {@code forkd-session} header: whoever has it acts as this session,
     * so it goes nowhere else (not into output, logs or other processes' arguments).
     */
    public String credential() {
        return credential;
    }

    /**
     * Completes when the session is gone while this client still wanted it: the server no longer knows
     * its credential (it ended, or a restarted server did not keep it), or the server stayed out of
     * reach for {@link #RECONNECT_LIMIT}. What it owned (locks, permits, daemon processes) is then
     * released or passed on. Never completes for a session this client closed.
     */
    public CompletionStage<StatusRuntimeException> lost() {
        return lost.minimalCompletionStage();
    }

    /** True while the session is on a live stream (false while it resumes after the stream broke). */
    public synchronized boolean connected() {
        return stream != null && !closed && !lost.isDone();
    }

    /**
     * Completes when the session is on a live stream: at once if it is, else once it has resumed.
     * Fails with the reason if it is lost instead.
     */
    public synchronized CompletionStage<Void> whenConnected() {
        return live.minimalCompletionStage();
    }

    private void renew() {
        synchronized (this) {
            if (!closed && stream != null) {
                stream.send(OpenSessionRequest.getDefaultInstance());
            }
        }
    }

    /** Starts resuming when {@code s} ends, unless this client ended it. */
    private void watch(SessionStream s) {
        s.ended.thenAccept(status -> broken(s, status));
    }

    private synchronized void broken(SessionStream s, Status status) {
        if (closed || stream != s || lost.isDone()) {
            return;
        }
        stream = null;
        live = new CompletableFuture<>();
        brokeAtNanos = System.nanoTime();
        backoff = FIRST_BACKOFF;
        scheduleResume();
    }

    private synchronized void scheduleResume() {
        // Full jitter, so that the clients of one server do not all come back in the same instant.
        long wait = ThreadLocalRandom.current().nextLong(backoff.toMillis() + 1);
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        timer.schedule(this::resume, wait, TimeUnit.MILLISECONDS);
    }

    /** One attempt to move the session to a new stream; the answer decides what comes next. */
    private void resume() {
        synchronized (this) {
            if (closed || lost.isDone()) {
                return;
            }
        }
        SessionStream next = SessionStream.start(stub, OpenSessionRequest.newBuilder().setCredential(credential).build());
        var timeout = timer.schedule(() -> next.cancel("resume timed out"), openTimeout.toMillis(), TimeUnit.MILLISECONDS);
        next.first.whenComplete((answer, error) -> {
            timeout.cancel(false);
            if (answer != null) {
                resumed(next, answer);
            } else {
                notResumed(next, Status.fromThrowable(error));
            }
        });
    }

    private synchronized void resumed(SessionStream next, OpenSessionResponse answer) {
        if (closed) {
            next.finish();
            return;
        }
        if (!answer.getSessionId().equals(publicId)) {
            // A server that does not know resuming opened a new session instead: not ours, so end it.
            next.finish();
            giveUp(Status.UNAUTHENTICATED.withDescription("the server did not resume session " + publicId
                    + " (it opened " + answer.getSessionId() + " instead): it does not keep sessions across restarts"));
            return;
        }
        stream = next;
        live.complete(null);
        watch(next);
    }

    private synchronized void notResumed(SessionStream next, Status status) {
        if (closed || lost.isDone()) {
            return;
        }
        boolean unreachable = status.getCode() == Status.Code.UNAVAILABLE
                || status.getCode() == Status.Code.DEADLINE_EXCEEDED || status.getCode() == Status.Code.CANCELLED;
        long waited = System.nanoTime() - brokeAtNanos;
        if (!unreachable) {
            giveUp(status);
        } else if (waited >= reconnectLimit.toNanos()) {
            giveUp(Status.UNAVAILABLE.withDescription("the server stayed out of reach for "
                    + reconnectLimit.toSeconds() + " s: " + status.getDescription()));
        } else {
            scheduleResume();
        }
    }

    private synchronized void giveUp(Status why) {
        StatusRuntimeException e = why.asRuntimeException();
        live.completeExceptionally(e);
        if (lost.complete(e)) {
            LOG.log(System.Logger.Level.WARNING, "forkd: session " + publicId + " is lost, and what it held"
                    + " (locks, semaphore permits, daemon processes) is released: " + why.getCode() + " "
                    + why.getDescription());
        }
        timer.shutdown();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        synchronized (this) {
            if (!closed) {
                closed = true;
                if (stream != null) {
                    stream.finish();
                }
            }
        }
    }
}
