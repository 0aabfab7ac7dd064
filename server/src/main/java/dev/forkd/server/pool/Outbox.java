package dev.forkd.server.pool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs a pool's callbacks outside its monitor, in the order they were handed in, batched onto one
 * executor task: a callback may then call back into the pool without deadlock.
 */
final class Outbox {

    private static final Logger LOG = Logger.getLogger(Outbox.class.getName());

    private final Executor executor;
    private final Object lock = new Object();
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private boolean scheduled;

    Outbox(Executor executor) {
        this.executor = executor;
    }

    void deliver(Runnable r) {
        boolean schedule;
        synchronized (lock) {
            waiting.addLast(r);
            schedule = !scheduled;
            scheduled = true;
        }
        if (schedule) {
            executor.execute(this::drain);
        }
    }

    private void drain() {
        while (true) {
            List<Runnable> batch;
            synchronized (lock) {
                if (waiting.isEmpty()) {
                    scheduled = false;
                    return;
                }
                batch = new ArrayList<>(waiting);
                waiting.clear();
            }
            for (Runnable r : batch) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "pool callback failed", e);
                }
            }
        }
    }
}
