package dev.forkd.agent;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.forkd.posix.Posix;
import dev.forkd.posix.WaitResult;

/**
 * The one thread that waits for children: our own children and the orphans that reparent to the
 * agent (it is a child subreaper). When it has nothing to wait for it sleeps on a condition that
 * the next spawn signals, instead of polling.
 *
 * <p>For one of our children it first only peeks at the exit (the zombie keeps the pid, and so the
 * process group id, from being reused), kills what is left of the group, and then reaps: a process's
 * life is its group's life, and nothing it started is left running after it. After every reap it
 * ends the orphans the exit left behind ({@link Escapees}).
 */
final class Reaper implements Runnable {
    private static final int SIGKILL = 9;

    private final Posix posix;
    private final ChildTable table;
    private final OutputPump pump;
    private final Escapees escapees;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition spawned = lock.newCondition();
    private boolean spawnedSinceLastCheck;

    Reaper(Posix posix, ChildTable table, OutputPump pump, Escapees escapees) {
        this.posix = posix;
        this.table = table;
        this.pump = pump;
        this.escapees = escapees;
    }

    /** Called after every successful spawn. */
    void childSpawned() {
        lock.lock();
        try {
            spawnedSinceLastCheck = true;
            spawned.signal();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void run() {
        try {
            while (true) {
                awaitSpawn();
                reapUntilNoChildren();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitSpawn() throws InterruptedException {
        lock.lock();
        try {
            while (!spawnedSinceLastCheck) {
                spawned.await();
            }
            // Cleared before waiting for children: a spawn from now on sets it again, so a child
            // started just after waitid said "no children" is never missed.
            spawnedSinceLastCheck = false;
        } finally {
            lock.unlock();
        }
    }

    private void reapUntilNoChildren() {
        OptionalInt ended;
        while ((ended = posix.waitAnyChildNoReap()).isPresent()) {
            int pid = ended.getAsInt();
            Optional<Child> child = table.byPid(pid);
            child.ifPresent(c -> {
                c.markEnded();
                posix.kill(-pid, SIGKILL);
            });
            Optional<WaitResult> result;
            if (child.isPresent()) {
                result = posix.waitChild(pid);
            } else {
                // An orphan is reaped under the table's lock, which Escapees holds from reading
                // our children to signalling them: a pid it signals is still ours, never reused.
                synchronized (table) {
                    result = posix.waitChild(pid);
                }
            }
            if (child.isPresent() && result.isPresent()) {
                pump.exited(child.get(), result.get().exitCode());
            }
            // Otherwise an adopted orphan, now reaped. Either way an exit is what leaves orphans
            // behind (the ended process's escaped descendants are reparented to us): end them.
            escapees.sweep();
        }
    }
}
