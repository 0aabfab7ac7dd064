package dev.forkd.server.shared;

import java.util.Arrays;

/**
 * multiprocessing.Array: a fixed length of one type; {@code zero} is that type's zero and stands for
 * the type. A new array's slots all hold the one (immutable) zero, so creating a long one allocates
 * only the slot table. It is kept in chunks of slots, so an add rewrites one chunk: {@link #CHUNK}
 * numbers or flags, or {@link #TEXT_CHUNK} strings or byte strings (which may each be large).
 */
final class ArrayCell extends Cell {

    static final int CHUNK = 1024;
    static final int TEXT_CHUNK = 32;

    final Scalar zero;
    final Scalar[] items;

    ArrayCell(String name, Scalar zero, Scalar[] items) {
        super(name);
        this.zero = zero;
        this.items = items;
    }

    @Override
    SharedStore.Kind kind() {
        return SharedStore.Kind.ARRAY;
    }

    @Override
    long size() {
        return items.length;
    }

    @Override
    long bytes() {
        return Arrays.stream(items).mapToLong(Scalar::size).sum();
    }

    /** Slots per row in the state store: fixed by the type, so a row's key says where its slots are. */
    int chunk() {
        return zero instanceof Scalar.Text || zero instanceof Scalar.Bytes ? TEXT_CHUNK : CHUNK;
    }
}
