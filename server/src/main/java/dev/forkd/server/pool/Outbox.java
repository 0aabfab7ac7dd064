package dev.forkd.server.pool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs a pool's callbacks outside its monitor, in the order they were handed in, batched onto one
 * executor task: a callback may then call back into the pool without deadlock. Work done through
 * {@link #deliverAfter} runs the callbacks it hands in on its own thread once it is done, which
 * saves a hand-off when that thread holds no lock.
 */
final class Outbox {

    private static final Logger LOG = Logger.getLogger(Outbox.class.getName());

    private final Executor executor;
    private final Object lock = new Object();
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    /** A drain is scheduled or running: only one runs at a time, so the order holds. */
    private boolean scheduled;
    /** Threads inside {@link #deliverAfter}: each drains when its work is done. */
    private int working;

    Outbox(Executor executor) {
        this.executor = executor;
    }

    void deliver(Runnable r) {
        boolean schedule;
        synchronized (lock) {
            waiting.addLast(r);
            schedule = !scheduled && working == 0;
            scheduled |= schedule;
        }
        if (schedule) {
            executor.execute(this::drain);
        }
    }

    /**
     * Runs {@code work}, then the callbacks waiting (its own and any others'), on this thread, which
     * must hold no lock, unless a drain is under way elsewhere already.
     */
    void deliverAfter(Runnable work) {
        synchronized (lock) {
            working++;
        }
        boolean drainHere;
        try {
            work.run();
        } finally {
            synchronized (lock) {
                working--;
                drainHere = !scheduled && !waiting.isEmpty();
                scheduled |= drainHere;
            }
        }
        if (drainHere) {
            drain();
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
