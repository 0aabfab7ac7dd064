package dev.forkd.client;

import java.time.Duration;
import java.util.AbstractQueue;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A named, bounded, server-held queue of byte items, as a {@link BlockingQueue}: {@code put} and
 * {@code take} block on the server, {@code offer}/{@code poll} with a timeout answer false/null when it
 * passes. {@link #typed(Codec)} gives a view of other element types.
 *
 * <p>What a server queue cannot do is refused with {@link UnsupportedOperationException}: looking at
 * the head without taking it ({@code peek}, {@code element}, {@code iterator}, {@code contains}) and
 * removing an item from the middle ({@code remove(Object)}). Bulk {@link #addAll} goes over the
 * streaming Produce call with flow control; {@link #drainTo} takes in batches.
 */
public class ForkdQueue extends AbstractQueue<byte[]> implements BlockingQueue<byte[]> {

    /** Items per Take of {@link #drainTo}. */
    private static final int DRAIN_BATCH = 1000;

    final QueueCalls calls;

    ForkdQueue(QueueCalls calls) {
        this.calls = calls;
    }

    /** The queue's name. */
    public String name() {
        return calls.name();
    }

    /** Whether the server keeps this queue in its state store, so its items survive a server restart. */
    public boolean durable() {
        return calls.durable();
    }

    /** A view that encodes and decodes elements with {@code codec}. */
    public <T> TypedQueue<T> typed(Codec<T> codec) {
        return new TypedQueue<>(this, codec);
    }

    @Override
    public boolean offer(byte[] item) {
        Objects.requireNonNull(item);
        return Rpc.uninterruptibly(calls.put(List.of(item), Duration.ZERO));
    }

    @Override
    public boolean offer(byte[] item, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(item);
        return Rpc.interruptibly(calls.put(List.of(item), Duration.of(Math.max(0, timeout), unit.toChronoUnit())));
    }

    @Override
    public void put(byte[] item) throws InterruptedException {
        Objects.requireNonNull(item);
        Rpc.interruptibly(calls.put(List.of(item), null));
    }

    /**
     * Puts every item, in order, waiting for room as needed, over one stream.
     *
     * @return always true (a bounded queue waits for room instead of refusing)
     */
    @Override
    public boolean addAll(Collection<? extends byte[]> items) {
        if (items == this) {
            throw new IllegalArgumentException("a queue cannot be added to itself");
        }
        items.forEach(Objects::requireNonNull);
        @SuppressWarnings("unchecked")
        Iterator<byte[]> it = (Iterator<byte[]>) items.iterator();
        try {
            putAll(it);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while putting items into " + name(), e);
        }
        return true;
    }

    /**
     * Puts every item the iterator gives, in order, over one stream, waiting for room as needed; the
     * iterator is read only as fast as the queue takes items.
     *
     * @return how many were put
     */
    public long putAll(Iterator<byte[]> items) throws InterruptedException {
        return new Producer(calls).putAll(items);
    }

    @Override
    public byte[] poll() {
        return first(Rpc.uninterruptibly(calls.take(1, Duration.ZERO)));
    }

    @Override
    public byte[] poll(long timeout, TimeUnit unit) throws InterruptedException {
        return first(Rpc.interruptibly(calls.take(1, Duration.of(Math.max(0, timeout), unit.toChronoUnit()))));
    }

    /**
     * Waits for an item.
     *
     * @throws IllegalStateException if the queue is closed and drained: no item will ever come
     */
    @Override
    public byte[] take() throws InterruptedException {
        QueueCalls.Taken taken = Rpc.interruptibly(calls.take(1, null));
        if (taken.items().isEmpty()) {
            throw new IllegalStateException("queue " + name() + " is closed and drained");
        }
        return taken.items().getFirst();
    }

    private static byte[] first(QueueCalls.Taken taken) {
        return taken.items().isEmpty() ? null : taken.items().getFirst();
    }

    /** Not offered by a server queue: taking is the only way to see an item. */
    @Override
    public byte[] peek() {
        throw new UnsupportedOperationException("a forkd queue cannot show its head without taking it");
    }

    /** Not offered by a server queue. */
    @Override
    public Iterator<byte[]> iterator() {
        throw new UnsupportedOperationException("a forkd queue cannot be iterated without taking its items");
    }

    @Override
    public boolean contains(Object o) {
        throw new UnsupportedOperationException("a forkd queue cannot be searched");
    }

    @Override
    public boolean remove(Object o) {
        throw new UnsupportedOperationException("a forkd queue cannot remove an item from the middle");
    }

    @Override
    public boolean removeAll(Collection<?> c) {
        throw new UnsupportedOperationException("a forkd queue cannot remove items from the middle");
    }

    @Override
    public boolean retainAll(Collection<?> c) {
        throw new UnsupportedOperationException("a forkd queue cannot remove items from the middle");
    }

    @Override
    public Object[] toArray() {
        throw new UnsupportedOperationException("a forkd queue cannot be listed without taking its items");
    }

    @Override
    public <T> T[] toArray(T[] a) {
        throw new UnsupportedOperationException("a forkd queue cannot be listed without taking its items");
    }

    /** Takes every item there now. */
    @Override
    public void clear() {
        drainTo(new java.util.ArrayList<>());
    }

    @Override
    public int size() {
        return (int) Math.min(Integer.MAX_VALUE, calls.size().size());
    }

    @Override
    public boolean isEmpty() {
        return calls.size().size() == 0;
    }

    @Override
    public int remainingCapacity() {
        long capacity = calls.capacity(); // the server bounds every queue: 0 was its default bound
        if (capacity <= 0) {
            return Integer.MAX_VALUE;
        }
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, capacity - calls.size().size()));
    }

    @Override
    public int drainTo(Collection<? super byte[]> into) {
        return drainTo(into, Integer.MAX_VALUE);
    }

    @Override
    public int drainTo(Collection<? super byte[]> into, int max) {
        if (into == this) {
            throw new IllegalArgumentException("a queue cannot be drained into itself");
        }
        int moved = 0;
        while (moved < max) {
            int want = Math.min(DRAIN_BATCH, max - moved);
            List<byte[]> items = Rpc.uninterruptibly(calls.take(want, Duration.ZERO)).items();
            into.addAll(items);
            moved += items.size();
            if (items.size() < want) {
                break;
            }
        }
        return moved;
    }

    /**
     * The queue's items as a stream over the streaming Consume call: the server pushes items ahead
     * within a bounded credit, and each is acknowledged once the stream hands it on (at-least-once:
     * items pushed and not yet handed on return to the queue when the stream is closed or this client
     * dies). The stream ends when the queue is closed and drained; close it to stop early.
     */
    public java.util.stream.Stream<byte[]> stream() {
        Consumer consumer = new Consumer(calls);
        return java.util.stream.StreamSupport.stream(java.util.Spliterators.spliteratorUnknownSize(consumer,
                java.util.Spliterator.ORDERED | java.util.Spliterator.NONNULL), false).onClose(consumer::close);
    }

    /** No more puts; takers drain what is there, then learn it is closed. */
    public void close() {
        calls.close();
    }

    /** Deletes the queue and its items on the server. */
    public void delete() {
        calls.delete();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name() + "]";
    }
}
