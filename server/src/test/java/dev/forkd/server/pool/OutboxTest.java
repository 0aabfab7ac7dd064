package dev.forkd.server.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Callbacks run outside the pool's monitor, one drain at a time, in the order they were handed in. */
class OutboxTest {

    /** An executor the test runs by hand. */
    private final ArrayDeque<Runnable> executor = new ArrayDeque<>();
    private final Outbox outbox = new Outbox(executor::add);
    private final List<String> ran = new ArrayList<>();

    private Runnable note(String what) {
        return () -> ran.add(what + (Thread.currentThread().getName().equals("executor") ? " on the executor" : ""));
    }

    private void runExecutor() {
        Thread t = new Thread(() -> {
            Runnable r;
            while ((r = executor.poll()) != null) {
                r.run();
            }
        }, "executor");
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void deliveredCallbacksRunInOrderOnOneExecutorTask() {
        outbox.deliver(note("a"));
        outbox.deliver(note("b"));
        assertEquals(1, executor.size(), "one drain for both");
        assertEquals(List.of(), ran);
        runExecutor();
        assertEquals(List.of("a on the executor", "b on the executor"), ran);
    }

    @Test
    void workDoneThroughDeliverAfterRunsItsCallbacksOnItsOwnThreadOnceDone() {
        outbox.deliverAfter(() -> {
            outbox.deliver(note("a"));
            ran.add("work done");
            outbox.deliver(note("b"));
        });
        assertEquals(List.of("work done", "a", "b"), ran);
        assertEquals(0, executor.size(), "no hand-off");
    }

    @Test
    void aDrainAlreadyScheduledKeepsTheOrderAndTakesWhatTheWorkHandsIn() {
        outbox.deliver(note("first"));
        outbox.deliverAfter(() -> outbox.deliver(note("second")));
        assertEquals(List.of(), ran, "the scheduled drain runs them, after what it had");
        runExecutor();
        assertEquals(List.of("first on the executor", "second on the executor"), ran);
    }

    @Test
    void aFailingCallbackDoesNotStopTheOthers() {
        outbox.deliverAfter(() -> {
            outbox.deliver(() -> {
                throw new IllegalStateException("a caller's bug");
            });
            outbox.deliver(note("next"));
        });
        assertEquals(List.of("next"), ran);
    }
}
