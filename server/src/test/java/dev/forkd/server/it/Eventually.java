package dev.forkd.server.it;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits, with a deadline, for an OS state that has no event to wait on (a zombie being reaped,
 * a process vanishing from /proc) — like Awaitility's {@code await().atMost(...)}.
 */
final class Eventually {

    private Eventually() {}

    static void await(Duration limit, BooleanSupplier condition, Supplier<String> whatIsWrong) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + limit + ": " + whatIsWrong.get());
            }
            LockSupport.parkNanos(2_000_000);
        }
    }
}
