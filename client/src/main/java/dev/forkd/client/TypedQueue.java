package dev.forkd.client;

import java.util.AbstractQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link ForkdQueue} seen through a {@link Codec}: the same queue, other element types. */
public final class TypedQueue<T> extends AbstractQueue<T> implements BlockingQueue<T> {

    private final ForkdQueue queue;
    private final Codec<T> codec;

    TypedQueue(ForkdQueue queue, Codec<T> codec) {
        this.queue = queue;
        this.codec = codec;
    }

    /** The byte queue under this view. */
    public ForkdQueue bytes() {
        return queue;
    }

    private T decode(byte[] b) {
        return b == null ? null : codec.decode(b);
    }

    @Override
    public boolean offer(T e) {
        return queue.offer(codec.encode(e));
    }

    @Override
    public boolean offer(T e, long timeout, TimeUnit unit) throws InterruptedException {
        return queue.offer(codec.encode(e), timeout, unit);
    }

    @Override
    public void put(T e) throws InterruptedException {
        queue.put(codec.encode(e));
    }

    @Override
    public boolean addAll(Collection<? extends T> c) {
        List<byte[]> encoded = new ArrayList<>(c.size());
        c.forEach(e -> encoded.add(codec.encode(e)));
        return queue.addAll(encoded);
    }

    @Override
    public T poll() {
        return decode(queue.poll());
    }

    @Override
    public T poll(long timeout, TimeUnit unit) throws InterruptedException {
        return decode(queue.poll(timeout, unit));
    }

    @Override
    public T take() throws InterruptedException {
        return codec.decode(queue.take());
    }

    @Override
    public T peek() {
        return decode(queue.peek());
    }

    /** Not offered by a server queue, as {@link ForkdQueue#iterator()}. */
    @Override
    public Iterator<T> iterator() {
        throw new UnsupportedOperationException("a forkd queue cannot be iterated without taking its items");
    }

    @Override
    public int size() {
        return queue.size();
    }

    @Override
    public boolean isEmpty() {
        return queue.isEmpty();
    }

    @Override
    public int remainingCapacity() {
        return queue.remainingCapacity();
    }

    @Override
    public int drainTo(Collection<? super T> c) {
        return drainTo(c, Integer.MAX_VALUE);
    }

    @Override
    public int drainTo(Collection<? super T> c, int max) {
        List<byte[]> raw = new ArrayList<>();
        int n = queue.drainTo(raw, max);
        raw.forEach(b -> c.add(codec.decode(b)));
        return n;
    }

    @Override
    public boolean contains(Object o) {
        return queue.contains(o);
    }

    @Override
    public boolean remove(Object o) {
        return queue.remove(o);
    }

    @Override
    public Object[] toArray() {
        return queue.toArray();
    }

    @Override
    public <A> A[] toArray(A[] a) {
        return queue.toArray(a);
    }

    @Override
    public void clear() {
        queue.clear();
    }

    @Override
    public String toString() {
        return "TypedQueue[" + queue.name() + "]";
    }
}
