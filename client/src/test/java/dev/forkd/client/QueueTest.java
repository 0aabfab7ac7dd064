package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QueueTest {

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
    void itemsComeOutInOrderAndTimeoutsAreResults() throws Exception {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"));
        assertTrue(q.isEmpty());
        // "Unbounded" is the server's default bound, as every forkd queue is bounded.
        int room = q.remainingCapacity();
        assertTrue(room > 1000 && room < Integer.MAX_VALUE, "room " + room);
        assertNull(q.poll(), "empty: poll answers null");
        assertNull(q.poll(200, TimeUnit.MILLISECONDS), "a timeout is null");
        assertTrue(q.offer(b("a")));
        q.put(b("b"));
        assertTrue(q.add(b("c")));
        assertTrue(q.offer(b("d"), 1, TimeUnit.SECONDS));
        assertEquals(4, q.size());
        assertFalse(q.isEmpty());
        assertEquals(room - 4, q.remainingCapacity());
        assertArrayEquals(b("a"), q.take());
        assertArrayEquals(b("b"), q.poll());
        assertArrayEquals(b("c"), q.poll(1, TimeUnit.SECONDS));
        assertArrayEquals(b("d"), q.remove());
        assertThrows(java.util.NoSuchElementException.class, q::remove);
    }

    @Test
    void aFullQueueRefusesOfferAndMakesPutWait() throws Exception {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"), 2);
        q.put(b("1"));
        q.put(b("2"));
        assertEquals(0, q.remainingCapacity());
        assertFalse(q.offer(b("3")));
        assertFalse(q.offer(b("3"), 200, TimeUnit.MILLISECONDS));
        assertThrows(IllegalStateException.class, () -> q.add(b("3")), "add on a full queue throws, as the JDK's");
        CompletableFuture<Void> putter = CompletableFuture.runAsync(() -> {
            try {
                other.queue(q.name()).put(b("3"));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThrows(TimeoutException.class, () -> putter.get(300, TimeUnit.MILLISECONDS));
        assertArrayEquals(b("1"), q.take());
        putter.get(30, TimeUnit.SECONDS);
        assertEquals(2, q.size());
    }

    @Test
    void takeWaitsForAnotherClientsPut() throws Exception {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"));
        CompletableFuture<byte[]> taker = CompletableFuture.supplyAsync(() -> {
            try {
                return q.take();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThrows(TimeoutException.class, () -> taker.get(300, TimeUnit.MILLISECONDS));
        other.queue(q.name()).put(b("x"));
        assertArrayEquals(b("x"), taker.get(30, TimeUnit.SECONDS));
    }

    @Test
    void anInterruptedTakeThrowsInterruptedException() throws Exception {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"));
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                q.take();
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        t.start();
        assertThrows(TimeoutException.class, () -> outcome.get(300, TimeUnit.MILLISECONDS));
        t.interrupt();
        assertTrue(outcome.get(30, TimeUnit.SECONDS) instanceof InterruptedException);
    }

    @Test
    void addAllStreamsManyItemsThroughABoundedQueue() throws Exception {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"), 100);
        int n = 5000;
        List<byte[]> items = IntStream.range(0, n).mapToObj(i -> b("item" + i)).toList();
        CompletableFuture<Boolean> producer = CompletableFuture.supplyAsync(() -> q.addAll(items));
        List<byte[]> got = new ArrayList<>();
        while (got.size() < n) {
            byte[] item = q.poll(30, TimeUnit.SECONDS);
            assertTrue(item != null, "an item within 30 s after " + got.size());
            got.add(item);
        }
        assertTrue(producer.get(30, TimeUnit.SECONDS));
        for (int i = 0; i < n; i++) {
            assertArrayEquals(items.get(i), got.get(i), "item " + i);
        }
    }

    @Test
    void streamConsumesEveryItemInOrderAndEndsWhenClosedAndDrained() throws Exception {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"));
        int n = 3000;
        q.putAll(IntStream.range(0, n).mapToObj(i -> b(Integer.toString(i))).iterator());
        q.close();
        try (var items = q.stream()) {
            assertEquals(IntStream.range(0, n).mapToObj(Integer::toString).toList(),
                    items.map(x -> new String(x, StandardCharsets.UTF_8)).toList());
        }
        assertEquals(0, q.size());
    }

    @Test
    void itemsPushedButNotReadGoBackWhenTheStreamCloses() throws Exception {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"));
        q.putAll(IntStream.range(0, 100).mapToObj(i -> b(Integer.toString(i))).iterator());
        try (var items = q.stream()) {
            assertEquals(List.of("0", "1", "2"), items.limit(3).map(x -> new String(x, StandardCharsets.UTF_8)).toList());
        }
        // The three read are gone; the rest came back, in order, for the next taker.
        ForkdQueue again = other.queue(q.name());
        for (int i = 3; i < 100; i++) {
            assertArrayEquals(b(Integer.toString(i)), again.poll(30, TimeUnit.SECONDS), "item " + i);
        }
        assertTrue(again.isEmpty());
    }

    @Test
    void drainToTakesWhatIsThereUpToTheLimit() throws Exception {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"));
        assertEquals(2500, q.putAll(IntStream.range(0, 2500).mapToObj(i -> b(Integer.toString(i))).iterator()));
        List<byte[]> some = new ArrayList<>();
        assertEquals(10, q.drainTo(some, 10));
        assertArrayEquals(b("0"), some.getFirst());
        List<byte[]> rest = new ArrayList<>();
        assertEquals(2490, q.drainTo(rest));
        assertArrayEquals(b("2499"), rest.getLast());
        q.put(b("x"));
        q.clear();
        assertTrue(q.isEmpty());
    }

    @Test
    void whatAServerQueueCannotDoIsRefused() {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"));
        assertThrows(UnsupportedOperationException.class, q::peek);
        assertThrows(UnsupportedOperationException.class, q::element);
        assertThrows(UnsupportedOperationException.class, q::iterator);
        assertThrows(UnsupportedOperationException.class, () -> q.contains(b("a")));
        assertThrows(UnsupportedOperationException.class, () -> q.remove((Object) b("a")));
        assertThrows(UnsupportedOperationException.class, () -> q.removeAll(List.of()));
        assertThrows(UnsupportedOperationException.class, () -> q.retainAll(List.of()));
        assertThrows(UnsupportedOperationException.class, q::toArray);
        assertThrows(UnsupportedOperationException.class, () -> q.toArray(new byte[0][]));
        assertThrows(NullPointerException.class, () -> q.offer(null));
        assertThrows(IllegalArgumentException.class, () -> q.drainTo(q));
    }

    @Test
    void aClosedQueueIsDrainedThenTakeFails() throws Exception {
        ForkdQueue q = forkd.queue(TestServer.unique("queue"));
        q.put(b("last"));
        q.close();
        ForkdException refused = assertThrows(ForkdException.class, () -> q.put(b("more")));
        assertEquals(io.grpc.Status.Code.FAILED_PRECONDITION, refused.code());
        assertEquals(dev.forkd.v1.ErrorReason.QUEUE_CLOSED, refused.reason());
        assertArrayEquals(b("last"), q.take());
        assertThrows(IllegalStateException.class, q::take);
        assertNull(q.poll(100, TimeUnit.MILLISECONDS));
        q.delete();
    }

    @Test
    void aTypedViewEncodesElements() throws Exception {
        TypedQueue<String> q = forkd.queue(TestServer.unique("queue")).typed(Codec.UTF8);
        q.put("héllo");
        assertTrue(q.offer("b"));
        assertTrue(q.offer("c", 1, TimeUnit.SECONDS));
        q.addAll(List.of("d", "e"));
        assertEquals(5, q.size());
        assertEquals(q.bytes().remainingCapacity(), q.remainingCapacity());
        assertEquals("héllo", q.take());
        assertEquals("b", q.poll());
        assertEquals("c", q.poll(1, TimeUnit.SECONDS));
        List<String> rest = new ArrayList<>();
        assertEquals(2, q.drainTo(rest));
        assertEquals(List.of("d", "e"), rest);
        assertNull(q.poll());
        assertTrue(q.isEmpty());
        assertTrue(q.bytes().name().startsWith("queue-"));
        assertThrows(UnsupportedOperationException.class, q::peek);
        assertThrows(UnsupportedOperationException.class, q::iterator);
    }

    @Test
    void joinableQueueJoinsWhenEveryItemIsDone() throws Exception {
        JoinableQueue q = forkd.joinableQueue(TestServer.unique("jq"), 0);
        q.put(b("a"));
        q.put(b("b"));
        assertEquals(2, q.unfinished());
        assertFalse(q.join(Duration.ofMillis(200)), "a timeout is false");
        CompletableFuture<Void> joiner = CompletableFuture.runAsync(() -> {
            try {
                q.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        q.take();
        q.taskDone();
        assertThrows(TimeoutException.class, () -> joiner.get(200, TimeUnit.MILLISECONDS));
        q.take();
        q.taskDone();
        joiner.get(30, TimeUnit.SECONDS);
        assertTrue(q.join(Duration.ZERO));
        assertEquals(dev.forkd.v1.ErrorReason.TASK_DONE_TOO_MANY, assertThrows(ForkdException.class, q::taskDone).reason());
    }
}
