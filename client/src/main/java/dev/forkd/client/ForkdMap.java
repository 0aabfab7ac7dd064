package dev.forkd.client;

import dev.forkd.v1.Scalar;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;

/**
 * A named server-held dict (Python's {@code Manager().dict()}) as a {@link ConcurrentMap} from text
 * keys to byte values. Single-key operations are atomic on the server ({@code putIfAbsent},
 * {@code replace(k, old, new)} are one compare-and-set; {@code put} and {@code replace(k, v)} retry one
 * until it holds). Values compare by content, not identity. Views ({@code entrySet}, {@code keySet},
 * {@code values}) are a snapshot read page by page, and iterate as ConcurrentHashMap's do: weakly.
 *
 * <p>{@code remove(key, value)} reads and then deletes: the server has no compare-and-delete, so a
 * concurrent replace between the two steps is removed too.
 */
public final class ForkdMap extends AbstractMap<String, byte[]> implements ConcurrentMap<String, byte[]> {

    private final SharedCalls calls;
    private final String name;

    ForkdMap(SharedCalls calls, String name) {
        this.calls = calls;
        this.name = name;
    }

    public String name() {
        return name;
    }

    private static Scalar enc(byte[] v) {
        return ScalarCodec.BYTES.encode(v);
    }

    private static byte[] dec(Scalar s) {
        // Text written by the CLI or Python reads as its UTF-8 bytes.
        return s.getKindCase() == Scalar.KindCase.STRING_VALUE ? s.getStringValueBytes().toByteArray()
                : ScalarCodec.BYTES.decode(s);
    }

    @Override
    public byte[] get(Object key) {
        return key instanceof String k ? calls.getDictItem(name, k).map(ForkdMap::dec).orElse(null) : null;
    }

    @Override
    public boolean containsKey(Object key) {
        return key instanceof String k && calls.getDictItem(name, k).isPresent();
    }

    @Override
    public byte[] put(String key, byte[] value) {
        Objects.requireNonNull(key);
        Objects.requireNonNull(value);
        Optional<Scalar> now = calls.getDictItem(name, key);
        while (true) {
            SharedCalls.Swap s = calls.compareAndSetDictItem(name, key, now, enc(value));
            if (s.swapped()) {
                return now.map(ForkdMap::dec).orElse(null);
            }
            now = s.current();
        }
    }

    /** All entries in one call. */
    @Override
    public void putAll(Map<? extends String, ? extends byte[]> m) {
        if (m.isEmpty()) {
            return;
        }
        Map<String, Scalar> items = new LinkedHashMap<>();
        m.forEach((k, v) -> items.put(Objects.requireNonNull(k), enc(Objects.requireNonNull(v))));
        calls.setDictItems(name, items);
    }

    @Override
    public byte[] remove(Object key) {
        return key instanceof String k ? calls.deleteDictItem(name, k).map(ForkdMap::dec).orElse(null) : null;
    }

    @Override
    public byte[] putIfAbsent(String key, byte[] value) {
        Objects.requireNonNull(key);
        Objects.requireNonNull(value);
        SharedCalls.Swap s = calls.compareAndSetDictItem(name, key, Optional.empty(), enc(value));
        return s.swapped() ? null : s.current().map(ForkdMap::dec).orElse(null);
    }

    @Override
    public boolean remove(Object key, Object value) {
        if (!(key instanceof String k) || !(value instanceof byte[] v)) {
            return false;
        }
        byte[] now = get(k);
        if (now == null || !Arrays.equals(now, v)) {
            return false;
        }
        return calls.deleteDictItem(name, k).isPresent();
    }

    @Override
    public boolean replace(String key, byte[] oldValue, byte[] newValue) {
        Objects.requireNonNull(oldValue);
        Objects.requireNonNull(newValue);
        return calls.compareAndSetDictItem(name, key, Optional.of(enc(oldValue)), enc(newValue)).swapped();
    }

    @Override
    public byte[] replace(String key, byte[] value) {
        Objects.requireNonNull(value);
        Optional<Scalar> now = calls.getDictItem(name, key);
        while (now.isPresent()) {
            SharedCalls.Swap s = calls.compareAndSetDictItem(name, key, now, enc(value));
            if (s.swapped()) {
                return dec(now.get());
            }
            now = s.current();
        }
        return null;
    }

    @Override
    public int size() {
        return (int) Math.min(Integer.MAX_VALUE, calls.dictSize(name));
    }

    @Override
    public boolean isEmpty() {
        return calls.dictSize(name) == 0;
    }

    /** Deletes the dict; it reads as empty and is made again by the next put. */
    @Override
    public void clear() {
        calls.delete(name);
    }

    @Override
    public Set<Entry<String, byte[]>> entrySet() {
        Map<String, Scalar> snapshot = calls.dictItems(name);
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, byte[]>> iterator() {
                Iterator<Entry<String, Scalar>> it = snapshot.entrySet().iterator();
                return new Iterator<>() {
                    private String last;

                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Entry<String, byte[]> next() {
                        Entry<String, Scalar> e = it.next();
                        last = e.getKey();
                        return new SimpleImmutableEntry<>(e.getKey(), dec(e.getValue()));
                    }

                    @Override
                    public void remove() {
                        if (last == null) {
                            throw new IllegalStateException();
                        }
                        ForkdMap.this.remove(last);
                        last = null;
                    }
                };
            }

            @Override
            public int size() {
                return snapshot.size();
            }
        };
    }

    @Override
    public String toString() {
        return "ForkdMap[" + name + "]";
    }
}
