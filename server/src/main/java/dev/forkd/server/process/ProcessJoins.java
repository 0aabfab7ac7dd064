package dev.forkd.server.process;

import dev.forkd.server.process.ProcessTable.Cancellable;
import dev.forkd.server.time.Timeout;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * Waits for a process to end: a joiner is answered once, when the record's transition reaches a
 * final state, or when its timeout passes first.
 */
final class ProcessJoins {

    private final ScheduledExecutorService timers;

    ProcessJoins(ScheduledExecutorService timers) {
        this.timers = timers;
    }

    /**
     * Calls {@code onDone(process, timedOut)} once: when {@code rec} reaches a final state, or
     * when {@code timeout} passes first (then with the process as it is).
     */
    Cancellable join(ProcessRecord rec, Optional<Duration> timeout, BiConsumer<ProcessSnapshot, Boolean> onDone) {
        AtomicBoolean done = new AtomicBoolean();
        Runnable finish = () -> {
            if (done.compareAndSet(false, true)) {
                ProcessSnapshot s;
                synchronized (rec) {
                    s = rec.snapshot();
                }
                onDone.accept(s, false);
            }
        };
        ProcessSnapshot ended = null;
        Optional<ScheduledFuture<?>> timer = Optional.empty();
        synchronized (rec) {
            if (rec.state.isFinal()) {
                ended = rec.snapshot();
            } else {
                // The timer first, so that a failure leaves no joiner behind (its expiry takes
                // the monitor held here, so it cannot run before the joiner is added).
                timer = timeout.flatMap(t -> Timeout.schedule(timers, t, () -> {
                    if (done.compareAndSet(false, true)) {
                        ProcessSnapshot s;
                        synchronized (rec) {
                            rec.joiners.remove(finish);
                            s = rec.snapshot();
                        }
                        onDone.accept(s, true);
                    }
                }));
                rec.joiners.add(finish);
            }
        }
        if (ended != null) {
            // Ended already (the common case for a short child): answered here, outside the
            // monitor, rather than after a hand-off to the timer thread.
            onDone.accept(ended, false);
            return () -> {};
        }
        Optional<ScheduledFuture<?>> joinTimer = timer;
        return () -> {
            done.set(true);
            joinTimer.ifPresent(f -> f.cancel(false));
            synchronized (rec) {
                rec.joiners.remove(finish);
            }
        };
    }
}
