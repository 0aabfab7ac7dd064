package dev.forkd.agent.grpc;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

import dev.forkd.agent.CommandDispatcher;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;

/**
 * Keeps the agent dialling its supervisor. When the stream ends without a shutdown (the supervisor
 * crashed, or was restarted with {@code --restart-keep}), the agent keeps its children and dials the
 * same address again, with exponential back-off and jitter, for the orphan grace. A supervisor that
 * admits it (the same one, or the next on the same state directory) ends the grace. When the grace
 * runs out, or a supervisor refuses the registration (it does not know this agent), the agent gives
 * up: it stops its children and exits, as it always did.
 */
public final class Redialer {
    /**
     * The delays between dials: exponential from {@code first} to {@code max}, with jitter. A new
     * supervisor on the same Unix socket is dialled as soon as its socket appears
     * ({@link #socketAppeared}), so the delays matter only for TCP and for a socket that appears
     * before it accepts.
     */
    public record Backoff(Duration first, Duration max) {
        public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));

        public Backoff {
            if (first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
                throw new IllegalArgumentException("back-off needs 0 < first <= max, got " + first + ", " + max);
            }
        }
    }

    /** A supervisor that answers these will never admit this agent: no point in dialling again. */
    private static final Set<Status.Code> REFUSALS = Set.of(Status.Code.PERMISSION_DENIED,
            Status.Code.ALREADY_EXISTS, Status.Code.UNAUTHENTICATED, Status.Code.INVALID_ARGUMENT,
            Status.Code.FAILED_PRECONDITION);

    private final System.Logger log = System.getLogger("forkd.agent");
    private final ManagedChannel channel;
    private final String token;
    private final Outbound outbound;
    private final CommandDispatcher dispatcher;
    private final Supplier<AgentMessage> register;
    private final ScheduledExecutorService timer;
    private final Duration grace;
    private final Backoff backoff;
    private final DoubleSupplier random;
    private final BooleanSupplier stopping;

    private AgentConnection current;
    private int failedDials;
    private ScheduledFuture<?> graceTimer;
    /** The next dial while orphaned, if one is waiting for its delay. */
    private ScheduledFuture<?> pendingDial;
    private boolean gaveUp;

    /**
     * @param grace how long to dial again before giving up; zero gives up at once (the old behaviour)
     * @param stopping true once the agent was told to shut down: a stream ending then is expected
     */
    public Redialer(ManagedChannel channel, String token, Outbound outbound, CommandDispatcher dispatcher,
            Supplier<AgentMessage> register, ScheduledExecutorService timer, Duration grace, Backoff backoff,
            DoubleSupplier random, BooleanSupplier stopping) {
        this.channel = channel;
        this.token = token;
        this.outbound = outbound;
        this.dispatcher = dispatcher;
        this.register = register;
        this.timer = timer;
        this.grace = grace;
        this.backoff = backoff;
        this.random = random;
        this.stopping = stopping;
    }

    /** Opens the first stream (and every later one). */
    public synchronized void dial() {
        pendingDial = null;
        if (gaveUp || stopping.getAsBoolean()) {
            return;
        }
        AgentConnection[] self = new AgentConnection[1];
        self[0] = new AgentConnection(dispatcher, outbound, register, () -> accepted(self[0]),
                status -> ended(self[0], status));
        current = self[0];
        channel.resetConnectBackoff(); // our back-off decides when to try, not the channel's
        self[0].open(AgentServiceGrpc.newStub(channel), token);
    }

    /** The current stream's end, for the exit path to wait on. */
    public synchronized CompletableFuture<Status> closed() {
        return current == null ? CompletableFuture.completedFuture(Status.OK) : current.closed();
    }

    private synchronized void accepted(AgentConnection connection) {
        if (connection != current) {
            return;
        }
        if (graceTimer != null) {
            graceTimer.cancel(false);
            graceTimer = null;
            log.log(Level.INFO, "admitted again by the supervisor: orphan grace ended");
        }
        failedDials = 0;
    }

    private void ended(AgentConnection connection, Status status) {
        boolean refused = REFUSALS.contains(status.getCode());
        synchronized (this) {
            if (connection != current || gaveUp || stopping.getAsBoolean()) {
                return;
            }
            if (!refused && !grace.isZero()) {
                if (graceTimer == null) {
                    log.log(Level.WARNING, "supervisor gone (" + status.getCode() + "): keeping the children"
                            + " and dialling again for " + grace.toSeconds() + " s");
                    graceTimer = timer.schedule(this::graceExpired, grace.toMillis(), TimeUnit.MILLISECONDS);
                }
                long delay = delayMillis(failedDials++);
                pendingDial = timer.schedule(this::dial, delay, TimeUnit.MILLISECONDS);
                return;
            }
            gaveUp = true;
        }
        if (refused) {
            log.log(Level.ERROR, "the supervisor refused this agent (" + status.getCode() + " "
                    + status.getDescription() + "): stopping the children");
        }
        outbound.giveUp();
        dispatcher.supervisorGone(status.isOk());
    }

    /**
     * The supervisor's Unix socket was created again: a new supervisor is binding it. While orphaned,
     * dial now rather than after the back-off (which may be seconds), and start the back-off again
     * from its first step, in case this dial comes a moment before the socket accepts.
     */
    public synchronized void socketAppeared() {
        if (gaveUp || graceTimer == null) {
            return;
        }
        failedDials = 0;
        if (pendingDial != null && pendingDial.cancel(false)) {
            pendingDial = null;
            log.log(Level.INFO, "the supervisor's socket appeared: dialling now");
            timer.execute(this::dial);
        }
    }

    private void graceExpired() {
        synchronized (this) {
            if (gaveUp || graceTimer == null) {
                return;
            }
            gaveUp = true;
        }
        log.log(Level.ERROR, "no supervisor came back within the orphan grace of " + grace.toSeconds()
                + " s: stopping the children");
        outbound.giveUp();
        dispatcher.supervisorGone(false);
    }

    /** Exponential from the back-off's first delay to its max, with jitter: half to all of it. */
    private long delayMillis(int failures) {
        long full = Math.min(backoff.max().toMillis(), backoff.first().toMillis() << Math.min(failures, 10));
        return (long) (full * (0.5 + random.getAsDouble() / 2));
    }
}
