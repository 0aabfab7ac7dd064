package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SharedTest {

    static TestServer server;
    static Forkd forkd;
    static Forkd other;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        forkd = server.connect();
        other = server.connect();
    }

    @AfterAll
    static void stop() throws Exception {
        other.close();
        forkd.close();
        server.close();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void valueBehavesLikeAtomicLong() {
        ForkdValue v = forkd.value(TestServer.unique("value"));
        assertEquals(0, v.get());
        v.set(5);
        assertEquals(6, v.incrementAndGet());
        assertEquals(6, v.getAndIncrement());
        assertEquals(7, v.getAndDecrement());
        assertEquals(5, v.decrementAndGet());
        assertEquals(15, v.addAndGet(10));
        assertEquals(15, v.getAndAdd(-5));
        assertTrue(v.compareAndSet(10, 20));
        assertFalse(v.compareAndSet(10, 30));
        assertEquals(20, v.getAndSet(1));
        assertEquals(3, v.updateAndGet(x -> x + 2));
        assertEquals(3, v.getAndUpdate(x -> x * 10));
        assertEquals(60, v.accumulateAndGet(2, (x, y) -> x * y));
        assertEquals(60, v.getAndAccumulate(1, Long::sum));
        assertEquals(61, v.longValue());
        assertEquals(61, v.intValue());
        assertEquals(61.0, v.doubleValue());
        assertEquals(61.0f, v.floatValue());
        assertEquals("61", v.toString());
        assertEquals(61, other.value(v.name()).get(), "another client sees the same value");
    }

    @Test
    void concurrentIncrementsFromTwoClientsAreNeverLost() throws Exception {
        String name = TestServer.unique("value");
        ForkdValue mine = forkd.value(name);
        ForkdValue theirs = other.value(name);
        CompletableFuture<Void> a = CompletableFuture.runAsync(() -> IntStream.range(0, 200).forEach(i -> mine.updateAndGet(x -> x + 1)));
        CompletableFuture<Void> c = CompletableFuture.runAsync(() -> IntStream.range(0, 200).forEach(i -> theirs.incrementAndGet()));
        a.get(60, TimeUnit.SECONDS);
        c.get(60, TimeUnit.SECONDS);
        assertEquals(400, mine.get());
    }

    @Test
    void mapBehavesLikeAConcurrentMap() {
        ForkdMap m = forkd.map(TestServer.unique("dict"));
        assertTrue(m.isEmpty(), "a dict never written reads as empty");
        assertNull(m.get("a"));
        assertNull(m.put("a", b("1")));
        assertArrayEquals(b("1"), m.put("a", b("2")));
        assertArrayEquals(b("2"), m.get("a"));
        assertTrue(m.containsKey("a"));
        assertFalse(m.containsKey("zz"));
        assertArrayEquals(b("2"), m.putIfAbsent("a", b("x")));
        assertNull(m.putIfAbsent("b", b("3")));
        assertTrue(m.replace("b", b("3"), b("4")));
        assertFalse(m.replace("b", b("3"), b("5")));
        assertArrayEquals(b("4"), m.replace("b", b("6")));
        assertNull(m.replace("nope", b("6")));
        assertFalse(m.containsKey("nope"));
        assertFalse(m.remove("b", b("4")));
        assertTrue(m.remove("b", b("6")));
        m.putAll(Map.of("c", b("7"), "d", b("8")));
        assertEquals(3, m.size());
        assertEquals(List.of("a", "c", "d"), new ArrayList<>(m.keySet()));
        assertArrayEquals(b("8"), m.remove("d"));
        assertNull(m.remove("d"));
        assertArrayEquals(b("9"), m.merge("c", b("9"), (x, y) -> y));
        assertArrayEquals(b("1"), m.computeIfAbsent("e", k -> b("1")));
        assertArrayEquals(b("2"), m.computeIfPresent("e", (k, v) -> b("2")));
        assertArrayEquals(b("3"), m.compute("e", (k, v) -> b("3")));
        assertArrayEquals(b("z"), m.getOrDefault("nope", b("z")));
        m.replaceAll((k, v) -> v);
        List<String> keys = new ArrayList<>();
        m.forEach((k, v) -> keys.add(k));
        assertEquals(List.of("a", "c", "e"), keys);
        var it = m.entrySet().iterator();
        it.next();
        it.remove();
        assertFalse(m.containsKey("a"));
        assertArrayEquals(b("9"), other.map(m.name()).get("c"), "another client sees the same dict");
        m.clear();
        assertTrue(m.isEmpty());
        assertEquals(0, m.size());
    }

    @Test
    void listAppendsPopsAndIndexes() {
        ForkdList<Long> list = forkd.list(TestServer.unique("list"), ScalarCodec.INT64);
        assertTrue(list.isEmpty());
        assertTrue(list.add(1L));
        assertTrue(list.addAll(List.of(2L, 3L, 4L)));
        list.add(4, 5L);
        assertThrows(UnsupportedOperationException.class, () -> list.add(0, 0L));
        assertEquals(5, list.size());
        assertEquals(3L, list.get(2));
        assertEquals(3L, list.set(2, 30L));
        assertEquals(30L, list.get(2));
        assertEquals(1L, list.remove(0));
        assertEquals(List.of(2L, 30L, 4L, 5L), new ArrayList<>(list));
        assertThrows(IndexOutOfBoundsException.class, () -> list.get(10));
        assertEquals(List.of(2L, 30L, 4L, 5L), new ArrayList<>(other.list(list.name(), ScalarCodec.INT64)));
        assertThrows(IllegalStateException.class, () -> forkd.list(list.name(), ScalarCodec.STRING).get(0),
                "read with the wrong type");
        list.clear();
        assertEquals(0, list.size());
        List<String> many = IntStream.range(0, 2500).mapToObj(Integer::toString).toList();
        ForkdList<String> texts = forkd.list(TestServer.unique("list"), ScalarCodec.STRING);
        texts.addAll(many);
        assertEquals(many, new ArrayList<>(texts), "iteration reads every slice");
    }

    @Test
    void arrayHasAFixedLengthAndAtomicAdds() {
        ForkdArray<Long> a = forkd.array(TestServer.unique("array"), ScalarCodec.INT64, 4);
        assertEquals(4, a.length());
        assertEquals(List.of(0L, 0L, 0L, 0L), a.toList());
        a.set(1, 10L);
        assertEquals(10L, a.get(1));
        assertEquals(15L, a.addAndGet(1, 5L));
        a.setAll(2, List.of(7L, 8L));
        assertEquals(8L, a.get(-1));
        assertEquals(List.of(0L, 15L, 7L, 8L), other.array(a.name(), ScalarCodec.INT64, 4).toList());
        assertThrows(ForkdException.class, () -> a.setAll(3, List.of(1L, 2L)), "past the end");
        assertThrows(ForkdException.class, () -> forkd.array(a.name(), ScalarCodec.INT64, 5), "another length");
        ForkdArray<Double> d = forkd.array(TestServer.unique("array"), ScalarCodec.DOUBLE, 2);
        assertEquals(0.5, d.addAndGet(0, 0.5));
        ForkdArray<Boolean> flags = forkd.array(TestServer.unique("array"), ScalarCodec.BOOL, 2);
        flags.set(0, true);
        assertEquals(List.of(true, false), flags.toList());
        ForkdArray<byte[]> blobs = forkd.array(TestServer.unique("array"), ScalarCodec.BYTES, 1);
        blobs.set(0, b("x"));
        assertArrayEquals(b("x"), blobs.get(0));
    }
}
