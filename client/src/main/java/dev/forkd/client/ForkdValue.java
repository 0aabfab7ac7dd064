package dev.forkd.client;

import java.util.function.LongBinaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * A named server-held 64-bit integer shaped like {@link java.util.concurrent.atomic.AtomicLong}: every
 * operation is one atomic step on the server, and the update functions retry a compare-and-set as
 * AtomicLong's do (so they may run more than once under contention).
 */
public final class ForkdValue extends Number {

    private final transient SharedCalls calls;
    private final String name;

    ForkdValue(SharedCalls calls, String name) {
        this.calls = calls;
        this.name = name;
    }

    public String name() {
        return name;
    }

    public long get() {
        return calls.getValue(name);
    }

    public void set(long value) {
        calls.setValue(name, value);
    }

    public boolean compareAndSet(long expected, long value) {
        return calls.compareAndSetValue(name, expected, value).swapped();
    }

    public long getAndSet(long value) {
        return getAndUpdate(x -> value);
    }

    public long addAndGet(long delta) {
        return calls.addValue(name, delta);
    }

    public long getAndAdd(long delta) {
        return calls.addValue(name, delta) - delta;
    }

    public long incrementAndGet() {
        return addAndGet(1);
    }

    public long decrementAndGet() {
        return addAndGet(-1);
    }

    public long getAndIncrement() {
        return getAndAdd(1);
    }

    public long getAndDecrement() {
        return getAndAdd(-1);
    }

    public long updateAndGet(LongUnaryOperator f) {
        long prev = get();
        while (true) {
            long next = f.applyAsLong(prev);
            SharedCalls.Swap s = calls.compareAndSetValue(name, prev, next);
            if (s.swapped()) {
                return next;
            }
            prev = ScalarCodec.INT64.decode(s.current().orElseThrow());
        }
    }

    public long getAndUpdate(LongUnaryOperator f) {
        long prev = get();
        while (true) {
            long next = f.applyAsLong(prev);
            SharedCalls.Swap s = calls.compareAndSetValue(name, prev, next);
            if (s.swapped()) {
                return prev;
            }
            prev = ScalarCodec.INT64.decode(s.current().orElseThrow());
        }
    }

    public long accumulateAndGet(long x, LongBinaryOperator f) {
        return updateAndGet(v -> f.applyAsLong(v, x));
    }

    public long getAndAccumulate(long x, LongBinaryOperator f) {
        return getAndUpdate(v -> f.applyAsLong(v, x));
    }

    @Override
    public int intValue() {
        return (int) get();
    }

    @Override
    public long longValue() {
        return get();
    }

    @Override
    public float floatValue() {
        return get();
    }

    @Override
    public double doubleValue() {
        return get();
    }

    /** The current value, as AtomicLong prints it. */
    @Override
    public String toString() {
        return Long.toString(get());
    }
}
