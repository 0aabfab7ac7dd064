package dev.forkd.client;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * A named server-held list (Python's {@code Manager().list()}) as a {@link List}: each call is one
 * atomic server operation; {@code add} appends, {@code remove(int)} pops. Adding in the middle is not
 * offered. Iteration reads a snapshot in slices. {@code set} reads the old item and then replaces it,
 * so under concurrent writers the old item it answers may be stale.
 */
public final class ForkdList<T> extends AbstractList<T> {

    /** Items per slice read by the iterator: far below the server's per-call limit. */
    private static final int SLICE = 1000;

    private final SharedCalls calls;
    private final String name;
    private final ScalarCodec<T> codec;

    ForkdList(SharedCalls calls, String name, ScalarCodec<T> codec) {
        this.calls = calls;
        this.name = name;
        this.codec = codec;
    }

    public String name() {
        return name;
    }

    @Override
    public T get(int index) {
        checkIndex(index);
        return codec.decode(calls.listItem(name, index));
    }

    @Override
    public T set(int index, T item) {
        T old = get(index);
        calls.setListItem(name, index, codec.encode(item));
        return old;
    }

    @Override
    public boolean add(T item) {
        calls.append(name, List.of(codec.encode(item)));
        modCount++;
        return true;
    }

    /** Only at the end ({@code index == size()}): a server list appends. */
    @Override
    public void add(int index, T item) {
        if (index != size()) {
            throw new UnsupportedOperationException("a forkd list only appends; add at index " + index + " refused");
        }
        add(item);
    }

    /** All items in one call. */
    @Override
    public boolean addAll(Collection<? extends T> items) {
        if (items.isEmpty()) {
            return false;
        }
        calls.append(name, SharedCalls.encodeAll(new ArrayList<>(items), codec));
        modCount++;
        return true;
    }

    @Override
    public T remove(int index) {
        checkIndex(index);
        modCount++;
        return codec.decode(calls.pop(name, index));
    }

    @Override
    public int size() {
        return (int) Math.min(Integer.MAX_VALUE, calls.listLength(name));
    }

    /** Deletes the list; it reads as empty and is made again by the next add. */
    @Override
    public void clear() {
        calls.delete(name);
        modCount++;
    }

    /** A snapshot, read in slices. */
    @Override
    public Iterator<T> iterator() {
        List<T> all = new ArrayList<>();
        for (long at = 0; ; at += SLICE) {
            List<dev.forkd.v1.Scalar> part = calls.slice(name, at, at + SLICE);
            part.forEach(s -> all.add(codec.decode(s)));
            if (part.size() < SLICE) {
                break;
            }
        }
        return List.copyOf(all).iterator();
    }

    private void checkIndex(int index) {
        Objects.checkIndex(index, size());
    }

    /** Equal only to itself: comparing contents would read the whole list from the server. */
    @Override
    public boolean equals(Object o) {
        return o == this;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "ForkdList[" + name + "]";
    }
}
