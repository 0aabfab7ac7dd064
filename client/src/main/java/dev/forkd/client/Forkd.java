package dev.forkd.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.Flow;

/**
 * A connection to a forkd server, and the way to every resource on it through the interfaces of
 * {@code java.util.concurrent}: processes, queues, locks and the other primitives, shared values and
 * collections, and pools.
 *
 * <p>Connecting opens a session (a keep-alive stream) that owns what this client acquires: its locks,
 * semaphore permits and daemon processes are released when it closes, or when this JVM dies and the
 * session's lease runs out. In a forkd child the child's own session ({@code FORKD_SESSION}) is used
 * instead. Ownership is per session, not per thread: every thread of this client acts as the same owner.
 *
 * <p>A server restart does not end the session: the client resumes it on a new stream, and calls that
 * change nothing are repeated while the server is away ({@link RetryPolicy}). Calls that change
 * something fail {@code UNAVAILABLE} then, and the caller decides whether to repeat them.
 *
 * <pre>{@code
 * try (Forkd forkd = Forkd.connect()) {
 *     ForkdProcess p = forkd.start(ProcessSpec.of("sh", "-c", "echo hi"));
 *     p.join();
 * }
 * }</pre>
 */
public final class Forkd implements AutoCloseable {

    private final ForkdClient client;
    private final Optional<ClientSession> session;
    private final Rpc rpc;
    private final ProcessCalls processes;

    private Forkd(ForkdClient client, Optional<ClientSession> session, Rpc rpc) {
        this.client = client;
        this.session = session;
        this.rpc = rpc;
        this.processes = new ProcessCalls(rpc);
    }

    /** Connects as {@link ConnectOptions#fromEnvironment()} says. */
    public static Forkd connect() {
        return connect(ConnectOptions.fromEnvironment());
    }

    /**
     * Connects, and opens a session unless the options name one.
     *
     * @throws ForkdException if the server cannot be reached or refuses the credentials
     * @throws UncheckedIOException if a token or TLS file cannot be used
     */
    public static Forkd connect(ConnectOptions options) {
        ForkdClient client;
        try {
            client = ForkdClient.connect(options.target().address(), options.resolvedToken(), Optional.empty(),
                    options.resolvedTls());
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        try {
            Optional<String> given = options.resolvedSession();
            Optional<ClientSession> own = given.isPresent() ? Optional.empty()
                    : Optional.of(Rpc.call(() -> client.openSession(options.sessionName(), options.sessionTtl(),
                            options.callTimeout())));
            String credential = given.orElseGet(() -> own.orElseThrow().credential());
            return new Forkd(client, own, new Rpc(client.channel(), credential, options.callTimeout()));
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** The public id of the session this client opened; empty when it acts in a given one. */
    public Optional<String> sessionId() {
        return session.map(ClientSession::publicId);
    }

    /**
     * Completes if the session this client opened is lost: a restarted server did not keep it, or
     * stayed out of reach too long (see {@link ClientSession#lost()}). Its locks, permits and daemon
     * processes are then released or passed on, and calls made in it fail. A server restart that keeps
     * the session does not complete it: the session resumes on its own. Never completes for a client
     * acting in a given session, or after {@link #close()}.
     */
    public java.util.concurrent.CompletionStage<ForkdException> sessionLost() {
        return session.map(s -> s.lost().thenApply(ForkdException::from))
                .orElseGet(java.util.concurrent.CompletableFuture::new);
    }

    /**
     * The server's event stream, like {@code docker events}: a new watch to each subscriber, from the
     * moment it subscribes ({@link ServerEvent.Started} first), its demand the stream's flow control. A
     * subscriber that falls behind is never waited for: it gets {@link ServerEvent.Missed} in place of
     * what was dropped. A child sees only its own processes' events and the shared data plane's.
     */
    public Flow.Publisher<ServerEvent> events(EventFilter filter) {
        return new EventCalls(rpc).watch(filter);
    }

    /** Starts a process. */
    public ForkdProcess start(ProcessSpec spec) {
        return new ForkdProcess(processes, processes.spawn(spec).id());
    }

    /** A handle on an existing process, by id or name. */
    public ForkdProcess process(String idOrName) {
        return new ForkdProcess(processes, processes.get(idOrName).id());
    }

    /** The queue of this name, created unbounded if new. */
    public ForkdQueue queue(String name) {
        return queue(name, 0);
    }

    /** The queue of this name, created with room for {@code capacity} items (0: unbounded) if new. */
    public ForkdQueue queue(String name, int capacity) {
        return queue(name, capacity, false);
    }

    /**
     * As {@link #queue(String, int)}; a {@code durable} queue is kept in the server's state store, so
     * its items survive a restart of the server (an extension: Python's queues live in memory).
     */
    public ForkdQueue queue(String name, int capacity, boolean durable) {
        QueueCalls calls = new QueueCalls(rpc, name);
        calls.create(capacity, durable);
        return new ForkdQueue(calls);
    }

    /** As {@link #queue(String, int)}, with {@code taskDone()}/{@code join()}. */
    public JoinableQueue joinableQueue(String name, int capacity) {
        return joinableQueue(name, capacity, false);
    }

    /** As {@link #queue(String, int, boolean)}, with {@code taskDone()}/{@code join()}. */
    public JoinableQueue joinableQueue(String name, int capacity, boolean durable) {
        QueueCalls calls = new QueueCalls(rpc, name);
        calls.create(capacity, durable);
        return new JoinableQueue(calls);
    }

    /** The lock of this name (created on first use). */
    public ForkdLock lock(String name) {
        return new ForkdLock(new SyncCalls(rpc), name);
    }

    /** The semaphore of this name, created with {@code permits} if new. */
    public ForkdSemaphore semaphore(String name, int permits) {
        SyncCalls calls = new SyncCalls(rpc);
        calls.createSemaphore(name, permits);
        return new ForkdSemaphore(calls, name);
    }

    /** The event of this name (created clear on first use). */
    public ForkdEvent event(String name) {
        return new ForkdEvent(new SyncCalls(rpc), name);
    }

    /** The barrier of this name for {@code parties} callers (created on first use). */
    public ForkdBarrier barrier(String name, int parties) {
        SyncCalls calls = new SyncCalls(rpc);
        calls.createBarrier(name, parties);
        return new ForkdBarrier(calls, name, parties);
    }

    /** The shared int64 value of this name, created as 0 if new. */
    public ForkdValue value(String name) {
        SharedCalls calls = new SharedCalls(rpc);
        calls.addValue(name, 0);
        return new ForkdValue(calls, name);
    }

    /** The shared dict of this name, with byte-string values. */
    public ForkdMap map(String name) {
        return new ForkdMap(new SharedCalls(rpc), name);
    }

    /** The shared list of this name, its items through {@code codec}. */
    public <T> ForkdList<T> list(String name, ScalarCodec<T> codec) {
        return new ForkdList<>(new SharedCalls(rpc), name, codec);
    }

    /** The shared fixed-length array of this name, created with {@code length} zeros of the codec's type if new. */
    public <T> ForkdArray<T> array(String name, ScalarCodec<T> codec, int length) {
        SharedCalls calls = new SharedCalls(rpc);
        calls.createArray(name, codec, length);
        return new ForkdArray<>(calls, name, codec);
    }

    /** Creates a pool of worker processes. */
    public ForkdPool pool(PoolSpec spec) {
        PoolCalls calls = new PoolCalls(rpc);
        return new ForkdPool(calls, calls.create(spec));
    }

    /** Ends the session (releasing what it owns, stopping its daemon processes) and the connection. */
    @Override
    public void close() {
        try {
            session.ifPresent(ClientSession::close);
        } finally {
            client.close();
        }
    }
}
