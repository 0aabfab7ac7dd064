package dev.forkd.server.grpc;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Runs a stream's drain on an executor, never two at once and with no thread waiting: any number
 * of {@link #signal()}s (a change, the client's onReady) collapse into one pending pass, and a
 * signal that arrives during a pass causes exactly one more. A drain that throws is handed to
 * {@code onFailure} and the drain stops for good (the stream is ending).
 */
final class SerialDrain {

    private final Executor executor;
    private final Runnable drain;
    private final Consumer<RuntimeException> onFailure;
    private final AtomicInteger pending = new AtomicInteger();

    SerialDrain(Executor executor, Runnable drain, Consumer<RuntimeException> onFailure) {
        this.executor = executor;
        this.drain = drain;
        this.onFailure = onFailure;
    }

    void signal() {
        if (pending.getAndIncrement() == 0) {
            executor.execute(this::loop);
        }
    }

    private void loop() {
        do {
            pending.set(1);
            try {
                drain.run();
            } catch (RuntimeException e) {
                onFailure.accept(e);
                return; // pending stays above zero: no further pass starts
            }
        } while (pending.decrementAndGet() != 0);
    }
}
