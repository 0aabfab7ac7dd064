package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.memory.MemoryBudget;
import dev.forkd.server.pool.MapResults;
import dev.forkd.server.pool.Pool;
import dev.forkd.server.pool.PoolTask;
import dev.forkd.server.pool.PoolRegistry;
import dev.forkd.server.pool.TaskInput;
import dev.forkd.server.pool.TaskResult;
import dev.forkd.v1.MapRequest;
import dev.forkd.v1.MapResponse;
import dev.forkd.v1.MapStart;
import dev.forkd.v1.ResultOrder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Map stream. Flow control both ways: items are requested one message at a time, only while
 * fewer than {@code max_in_flight} items are taken in and not yet answered; results are sent only
 * while the client's side is ready. So a slow reader stops the intake, and memory per stream is
 * bounded by the window whatever the number of items.
 *
 * <p>Items taken in and results not yet sent are held from the server's {@link MemoryBudget}: an
 * item batch that does not fit, or a result that does not, fails the stream with RESOURCE_EXHAUSTED
 * (MEMORY_BUDGET_EXHAUSTED) rather than grow past it. Everything held is given back when the stream ends.
 *
 * <p>halt_on_error: after the first failure no more items are taken, and the tasks taken but not
 * started are cancelled; they are skipped without a result, and the stream ends once the started
 * ones are answered.
 */
final class MapSession implements StreamObserver<MapRequest> {

    static final int MAX_CHUNKSIZE = 100_000;
    static final int MIN_WINDOW = 4096;
    static final int MAX_WINDOW = 1_000_000;
    private static final int MAX_RESULTS_PER_MESSAGE = 4096;
    private static final int MAX_MESSAGE_BYTES = 1024 * 1024;

    private final PoolRegistry pools;
    private final PoolRequests requests;
    private final ServerCallStreamObserver<MapResponse> out;
    private final Executor executor;
    private final AtomicInteger drainPending = new AtomicInteger();
    /** Budget bytes held for items taken and results not yet sent; all given back by {@link #end}. */
    private final HeldBytes held;

    // Guarded by this.
    private Pool pool;
    private boolean ephemeral;
    private int chunksize;
    private int window;
    private boolean haltOnError;
    /** Shared by this stream's tasks when halt_on_error: the pool starts none of them after one fails. */
    private Optional<java.util.concurrent.atomic.AtomicBoolean> haltGroup = Optional.empty();
    private boolean poolInfoDue;
    private long received;
    /** Results on their way out, in the order the stream asked for (set when it begins). */
    private MapResults results = new MapResults(false);
    private final Map<Long, PoolTask> open = new HashMap<>();
    private boolean inputDone;
    private boolean halted;
    private boolean requested;
    private boolean finished;
    private RuntimeException failure;

    MapSession(PoolRegistry pools, PoolRequests requests, ServerCallStreamObserver<MapResponse> out, Executor executor) {
        this.pools = pools;
        this.requests = requests;
        this.out = out;
        this.executor = executor;
        this.held = new HeldBytes(pools.memory());
        out.disableAutoRequest();
        out.setOnReadyHandler(this::scheduleDrain);
        out.setOnCancelHandler(this::cancelled);
        requested = true;
        out.request(1);
    }

    @Override
    public void onNext(MapRequest request) {
        try {
            synchronized (this) {
                requested = false;
                if (finished) {
                    return;
                }
            }
            if (pool == null) {
                begin(request);
            } else {
                if (request.hasStart()) {
                    throw new InvalidArgument("start", "only the first message may carry start");
                }
                take(request);
            }
        } catch (RuntimeException e) {
            fail(e instanceof ForkdException f ? f : null, e);
            return;
        }
        maybeRequest();
    }

    private void begin(MapRequest request) {
        if (!request.hasStart()) {
            throw new InvalidArgument("start", "the first message must carry start (the pool and the order)");
        }
        if (request.getItemsCount() > 0) {
            throw new InvalidArgument("items", "the first message carries start only; send items after it");
        }
        MapStart s = request.getStart();
        if (s.getChunksize() < 0 || s.getChunksize() > MAX_CHUNKSIZE) {
            throw new InvalidArgument("start.chunksize", "must be between 1 and " + MAX_CHUNKSIZE + " (0: 1)");
        }
        if (s.getMaxInFlight() < 0) {
            throw new InvalidArgument("start.max_in_flight", "must not be negative (0: the default)");
        }
        boolean inOrder = switch (s.getOrder()) {
            case RESULT_ORDER_UNSPECIFIED, RESULT_ORDER_INPUT -> true;
            case RESULT_ORDER_COMPLETION -> false;
            case UNRECOGNIZED -> throw new InvalidArgument("start.order", "unknown value " + s.getOrderValue());
        };
        Pool p;
        boolean made;
        switch (s.getPoolCase()) {
            case NAME -> {
                p = pools.find(s.getName());
                made = false;
            }
            case CREATE -> {
                var spec = requests.toSpec(s.getCreate(), true, "start.create");
                p = pools.create(spec, error -> error.ifPresent(e -> fail(e, e)));
                Optional.ofNullable(Metadata.SESSION_ID.get()).ifPresent(session -> pools.own(p, session));
                made = true;
            }
            default -> throw new InvalidArgument("start.pool", "name a pool (name) or create one (create)");
        }
        synchronized (this) {
            pool = p;
            ephemeral = made;
            results = new MapResults(inOrder);
            chunksize = Math.max(1, s.getChunksize());
            int cap = (int) Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, 64L * p.spec().processes() * chunksize));
            window = s.getMaxInFlight() == 0 ? cap : Math.min(cap, s.getMaxInFlight());
            haltOnError = s.getHaltOnError();
            haltGroup = haltOnError ? Optional.of(new java.util.concurrent.atomic.AtomicBoolean()) : Optional.empty();
            poolInfoDue = true;
        }
        scheduleDrain();
    }

    private void take(MapRequest request) {
        List<TaskInput> inputs = new ArrayList<>(request.getItemsCount());
        for (int i = 0; i < request.getItemsCount(); i++) {
            TaskInput in = PoolMessages.input(request.getItems(i));
            pool.validate("items[" + i + "]", in);
            inputs.add(in);
        }
        long bytes = 0;
        for (TaskInput in : inputs) {
            bytes += in.heldBytes();
        }
        List<List<PoolTask>> chunks = new ArrayList<>();
        synchronized (this) {
            if (halted || held.released()) {
                return; // stopped taking items: these are not run
            }
            held.hold(bytes, inputs.size() + " items of a Map stream");
            List<PoolTask> chunk = new ArrayList<>(Math.min(chunksize, inputs.size()));
            for (TaskInput in : inputs) {
                long index = received++;
                PoolTask t = new PoolTask(index, in, this::onResult, () -> onSkipped(index), haltGroup);
                open.put(index, t);
                chunk.add(t);
                if (chunk.size() == chunksize) {
                    chunks.add(chunk);
                    chunk = new ArrayList<>(chunksize);
                }
            }
            if (!chunk.isEmpty()) {
                chunks.add(chunk);
            }
        }
        for (List<PoolTask> c : chunks) {
            pool.submit(c);
        }
    }

    @Override
    public void onError(Throwable t) {
        cancelled();
    }

    @Override
    public void onCompleted() {
        synchronized (this) {
            inputDone = true;
        }
        scheduleDrain();
    }

    private void onResult(TaskResult r) {
        List<PoolTask> unstarted = List.of();
        ForkdException refused = null;
        synchronized (this) {
            if (finished) {
                return;
            }
            giveBack(open.remove(r.index()));
            refused = held.tryHold(r.heldBytes(), "a result of a Map stream").orElse(null);
        }
        if (refused != null) {
            fail(refused, refused);
            return;
        }
        synchronized (this) {
            if (finished) {
                return;
            }
            results.add(r);
            if (haltOnError && !r.ok() && !halted) {
                halted = true;
                unstarted = new ArrayList<>(open.values());
            }
        }
        // Started ones still answer; the others are skipped (onSkipped).
        unstarted.forEach(PoolTask::cancel);
        drainHere();
    }

    private void onSkipped(long index) {
        synchronized (this) {
            if (finished) {
                return;
            }
            giveBack(open.remove(index));
            results.skip(index);
        }
        scheduleDrain();
    }

    private void maybeRequest() {
        boolean ask;
        synchronized (this) {
            ask = !finished && !inputDone && !halted && !requested && pool != null && received - results.sent() < window;
            if (ask) {
                requested = true;
            }
        }
        if (ask) {
            out.request(1);
        }
    }

    private void scheduleDrain() {
        if (drainPending.getAndIncrement() == 0) {
            executor.execute(this::drainWhilePending);
        }
    }

    /**
     * Drains on this thread, for a result: the pool hands results over holding no lock, so the
     * answer goes out without a hand-off to another thread.
     */
    private void drainHere() {
        if (drainPending.getAndIncrement() == 0) {
            drainWhilePending();
        }
    }

    /** One drain at a time: what is added during one is sent by the same loop. */
    private void drainWhilePending() {
        do {
            drainPending.set(1);
            try {
                drain();
            } catch (RuntimeException e) {
                fail(e instanceof ForkdException f ? f : null, e);
            }
        } while (drainPending.decrementAndGet() != 0);
    }

    private void drain() {
        while (true) {
            MapResponse.Builder msg = MapResponse.newBuilder();
            boolean complete = false;
            RuntimeException error;
            synchronized (this) {
                if (finished) {
                    return;
                }
                error = failure;
                if (error == null) {
                    if (!out.isReady()) {
                        return;
                    }
                    if (poolInfoDue) {
                        msg.setPool(PoolMessages.info(pool.snapshot()));
                        poolInfoDue = false;
                    }
                    int bytes = 0;
                    while (msg.getResultsCount() < MAX_RESULTS_PER_MESSAGE && bytes < MAX_MESSAGE_BYTES) {
                        TaskResult r = results.next();
                        if (r == null) {
                            break;
                        }
                        held.giveBack(r.heldBytes()); // it leaves for the client
                        var pr = PoolMessages.result(r);
                        bytes += pr.getSerializedSize();
                        msg.addResults(pr);
                    }
                    if (results.accountedFor() == received && (inputDone || halted)) {
                        complete = true;
                        finished = true;
                        if (halted) {
                            msg.setHalted(true).setHaltedAfter(received);
                        }
                    }
                } else {
                    finished = true;
                }
            }
            if (error != null) {
                end();
                out.onError(ErrorMapper.toStatus(error));
                return;
            }
            if (msg.hasPool() || msg.getResultsCount() > 0 || complete) {
                out.onNext(msg.build());
            }
            if (complete) {
                end();
                out.onCompleted();
                return;
            }
            if (msg.getResultsCount() == 0 && !msg.hasPool()) {
                maybeRequest();
                return;
            }
            maybeRequest();
        }
    }

    /** Fails the stream with {@code e} (or, for anything else, INTERNAL via the mapper). */
    private void fail(ForkdException e, RuntimeException cause) {
        synchronized (this) {
            if (finished || failure != null) {
                return;
            }
            failure = e != null ? e : cause;
        }
        scheduleDrain();
    }

    private void cancelled() {
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
        }
        end();
    }

    /** A task's item is no longer held (its result is, or it was skipped). Under this. */
    private void giveBack(PoolTask t) {
        if (t != null) {
            held.giveBack(t.input().heldBytes());
        }
    }

    /** The stream is over: drop its unstarted tasks, give back what it held, and end an ephemeral pool. */
    private void end() {
        List<PoolTask> left;
        Pool p;
        boolean discard;
        synchronized (this) {
            left = new ArrayList<>(open.values());
            open.clear();
            p = pool;
            discard = ephemeral;
            if (held.releaseAll()) {
                results.clear();
            }
        }
        left.forEach(PoolTask::cancel);
        if (p != null && discard) {
            pools.discard(p);
        }
    }
}
