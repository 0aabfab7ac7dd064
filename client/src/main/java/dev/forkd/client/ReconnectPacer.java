package dev.forkd.client;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a channel's reconnection attempts close together while its server is away, so that a
 * restarted server is found within about a second rather than after gRPC's own reconnect back-off,
 * which grows to minutes (1 s, 1.6 s, 2.6 s...). The retry policy repeats calls for a few seconds
 * only: the connection must be back within that time.
 *
 * <p>It waits for the channel to fall into TRANSIENT_FAILURE (an event), and then, for as long as it
 * stays there, cuts gRPC's back-off short after jittered waits growing to {@link #MAX_WAIT}. Dialling
 * a Unix socket or a loopback port that refuses costs next to nothing.
 */
final class ReconnectPacer {

    static final Duration FIRST_WAIT = Duration.ofMillis(100);
    static final Duration MAX_WAIT = Duration.ofSeconds(1);

    private final ManagedChannel channel;
    private final ScheduledExecutorService timer;
    // Guarded by this: state callbacks and the timer both touch them.
    private long waitMillis = FIRST_WAIT.toMillis();
    private boolean redialing; // one chain of redials at a time

    private ReconnectPacer(ManagedChannel channel, ScheduledExecutorService timer) {
        this.channel = channel;
        this.timer = timer;
    }

    /** Starts pacing {@code channel}'s reconnections on {@code timer} until the channel shuts down. */
    static void pace(ManagedChannel channel, ScheduledExecutorService timer) {
        new ReconnectPacer(channel, timer).watch(channel.getState(false));
    }

    private void watch(ConnectivityState seen) {
        channel.notifyWhenStateChanged(seen, this::changed);
    }

    private synchronized void changed() {
        ConnectivityState now = channel.getState(false);
        switch (now) {
            case SHUTDOWN -> {
                return;
            }
            case READY -> waitMillis = FIRST_WAIT.toMillis();
            case TRANSIENT_FAILURE -> {
                if (!redialing) {
                    redialing = true;
                    scheduleRedial();
                }
            }
            default -> {
            }
        }
        watch(now);
    }

    /**
     * While the channel fails, cuts gRPC's back-off short after each of our waits. gRPC keeps the
     * channel in TRANSIENT_FAILURE through its own redials (it does not pass through CONNECTING
     * again), so no state change would tell us to act once more: each redial schedules the next.
     */
    private synchronized void scheduleRedial() {
        long wait = waitMillis / 2 + ThreadLocalRandom.current().nextLong(waitMillis / 2 + 1);
        waitMillis = Math.min(MAX_WAIT.toMillis(), waitMillis * 2);
        try {
            timer.schedule(this::redial, wait, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            redialing = false; // the client is closing
        }
    }

    private synchronized void redial() {
        if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
            channel.resetConnectBackoff();
            scheduleRedial();
        } else {
            redialing = false;
        }
    }
}
