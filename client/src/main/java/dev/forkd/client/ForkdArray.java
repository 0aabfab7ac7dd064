package dev.forkd.client;

import dev.forkd.v1.Scalar;
import java.util.ArrayList;
import java.util.List;

/**
 * A named server-held fixed-length array of one element type (Python's {@code multiprocessing.Array}),
 * shaped like {@link java.util.concurrent.atomic.AtomicLongArray}: each call is one atomic step.
 */
public final class ForkdArray<T> {

    /** Elements per slice read by {@link #toList()}: far below the server's per-call limit. */
    private static final int SLICE = 1000;

    private final SharedCalls calls;
    private final String name;
    private final ScalarCodec<T> codec;

    ForkdArray(SharedCalls calls, String name, ScalarCodec<T> codec) {
        this.calls = calls;
        this.name = name;
        this.codec = codec;
    }

    public String name() {
        return name;
    }

    public int length() {
        return (int) calls.arrayLength(name);
    }

    /** Element {@code i}; negative counts from the end. */
    public T get(int i) {
        return codec.decode(calls.arrayItem(name, i));
    }

    public void set(int i, T value) {
        calls.setArray(name, i, List.of(codec.encode(value)));
    }

    /** Replaces the elements from {@code start} on with {@code values}, which must fit. */
    public void setAll(int start, List<T> values) {
        calls.setArray(name, start, SharedCalls.encodeAll(values, codec));
    }

    /**
     * Adds {@code delta} to element {@code i} in one step (int64 and double arrays).
     *
     * @return the element after the addition
     */
    public T addAndGet(int i, T delta) {
        return codec.decode(calls.addArrayItem(name, i, codec.encode(delta)));
    }

    /** Every element, read in slices. */
    public List<T> toList() {
        int length = length();
        List<T> all = new ArrayList<>(length);
        for (long at = 0; at < length; at += SLICE) {
            for (Scalar s : calls.arraySlice(name, at, Math.min(length, at + SLICE))) {
                all.add(codec.decode(s));
            }
        }
        return all;
    }

    @Override
    public String toString() {
        return "ForkdArray[" + name + "]";
    }
}
