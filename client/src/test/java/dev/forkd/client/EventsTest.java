package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Flow;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EventsTest {

    static TestServer server;
    static Forkd forkd;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        forkd = server.connect();
    }

    @AfterAll
    static void stop() throws Exception {
        forkd.close();
        server.close();
    }

    /** Subscribes with unbounded demand; what arrives, in order, and the subscription to cancel. */
    private static final class Collector implements Flow.Subscriber<ServerEvent> {
        final BlockingQueue<Object> seen = new LinkedBlockingQueue<>();
        volatile Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(ServerEvent item) {
            seen.add(item);
        }

        @Override
        public void onError(Throwable t) {
            seen.add(t);
        }

        @Override
        public void onComplete() {
            seen.add("complete");
        }

        Object next() throws InterruptedException {
            Object o = seen.poll(30, TimeUnit.SECONDS);
            assertTrue(o != null, "no event within 30 s");
            return o;
        }
    }

    @Test
    void aProcessLifecycleArrivesFilteredByNameAndKind() throws Exception {
        String name = "events-" + System.nanoTime();
        Collector events = new Collector();
        forkd.events(EventFilter.kinds(ServerEvent.Kind.PROCESS_STARTED, ServerEvent.Kind.PROCESS_EXITED)
                .withNames(name)).subscribe(events);
        assertInstanceOf(ServerEvent.Started.class, events.next(), "the watch says it is in place first");

        forkd.start(ProcessSpec.of("sh", "-c", "exit 0")).join(); // another process: filtered out
        ForkdProcess p = forkd.start(ProcessSpec.of("sh", "-c", "exit 3").named(name));
        p.join();

        List<ServerEvent.Happened> mine = new ArrayList<>();
        while (mine.size() < 2) {
            Object o = events.next();
            assertInstanceOf(ServerEvent.Happened.class, o, () -> "not an event: " + o);
            mine.add((ServerEvent.Happened) o);
        }
        events.subscription.cancel();
        ServerEvent.Happened started = mine.get(0);
        ServerEvent.Happened exited = mine.get(1);
        assertEquals(ServerEvent.Kind.PROCESS_STARTED, started.kind());
        assertEquals(p.id(), started.id());
        assertEquals(name, started.name());
        assertEquals("process", started.resourceType());
        assertTrue(started.duration().isPresent(), "a start carries its spawn latency");
        assertEquals(ServerEvent.Kind.PROCESS_EXITED, exited.kind());
        assertEquals("3", exited.attributes().get("exit_code"), exited::toString);
        assertTrue(exited.sequence() > started.sequence());
        assertFalse(events.seen.stream().anyMatch(o -> o instanceof Throwable), events.seen::toString);
    }

    @Test
    void unknownKindsCannotBeAskedFor() {
        assertThrows(IllegalArgumentException.class, () -> EventFilter.kinds(ServerEvent.Kind.OTHER));
    }
}
