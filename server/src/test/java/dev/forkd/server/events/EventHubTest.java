package dev.forkd.server.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.auth.Caller;
import dev.forkd.server.auth.Lineage;
import dev.forkd.server.error.ForkdException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventHubTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T00:00:00Z"), ZoneOffset.UTC);

    private static Event exited(String id, Map<String, String> labels) {
        return new Event(EventKind.PROCESS_EXITED, id, Optional.empty(), labels, Map.of("exit_code", "0"),
                Optional.empty(), Optional.of(Lineage.root(id)), Optional.empty());
    }

    private static List<Delivery> drain(EventHub.Watch w) {
        List<Delivery> all = new ArrayList<>();
        for (Optional<Delivery> d = w.poll(); d.isPresent(); d = w.poll()) {
            all.add(d.get());
        }
        return all;
    }

    @Test
    void aWatcherThatFallsBehindIsToldHowManyItMissedInPlaceAndNeverBlocksThePublisher() {
        EventHub hub = new EventHub(CLOCK, new EventHub.Limits(4, 3));
        EventHub.Watch slow = hub.watch(EventFilter.ALL, Optional::of, () -> {});
        for (int i = 1; i <= 10; i++) {
            hub.happened(exited("p-" + i, Map.of())); // never waits for the watcher, which reads nothing yet
        }
        List<Delivery> got = drain(slow);
        // Started (one slot), two events fill the bound of 3, then one marker for the 8 dropped.
        assertEquals(new Delivery.Started(0), got.get(0));
        assertEquals("p-1", ((Delivery.Happened) got.get(1)).event().id());
        assertEquals("p-2", ((Delivery.Happened) got.get(2)).event().id());
        assertEquals(new Delivery.Missed(8), got.get(3));
        assertEquals(4, got.size());
        // Caught up: the next event arrives, with its server-wide sequence number (11: gaps show the loss).
        hub.happened(exited("p-11", Map.of()));
        Delivery.Happened next = (Delivery.Happened) drain(slow).get(0);
        assertEquals(11, next.sequence());
        assertEquals(CLOCK.instant(), next.time());
    }

    @Test
    void aWatcherWhoseWakeUpFailsIsDroppedAndThePublisherAndOtherWatchersCarryOn() {
        EventHub hub = new EventHub(CLOCK, EventHub.Limits.DEFAULT);
        hub.watch(EventFilter.ALL, Optional::of, () -> {
            throw new java.util.concurrent.RejectedExecutionException("stream executor stopped");
        });
        EventHub.Watch healthy = hub.watch(EventFilter.ALL, Optional::of, () -> {});
        hub.happened(exited("p-1", Map.of()));
        hub.happened(exited("p-2", Map.of()));
        assertEquals(1, hub.watcherCount());
        assertEquals(3, drain(healthy).size());
    }

    @Test
    void watchersAreCappedAndAClosedWatchFreesItsPlace() {
        EventHub hub = new EventHub(CLOCK, new EventHub.Limits(2, 10));
        EventHub.Watch a = hub.watch(EventFilter.ALL, Optional::of, () -> {});
        hub.watch(EventFilter.ALL, Optional::of, () -> {});
        ForkdException.ResourceExhausted e = assertThrows(ForkdException.ResourceExhausted.class,
                () -> hub.watch(EventFilter.ALL, Optional::of, () -> {}));
        assertEquals("TOO_MANY_EVENT_WATCHERS", e.reason());
        a.close();
        hub.watch(EventFilter.ALL, Optional::of, () -> {});
        assertEquals(2, hub.watcherCount());
    }

    @Test
    void filtersMatchKindsLabelsAndNamesAndOnlyMatchesWakeTheWatcher() {
        EventHub hub = new EventHub(CLOCK, EventHub.Limits.DEFAULT);
        AtomicInteger wakes = new AtomicInteger();
        EventHub.Watch w = hub.watch(new EventFilter(Set.of(EventKind.PROCESS_EXITED), Map.of("app", "web"), Set.of()),
                Optional::of, wakes::incrementAndGet);
        drain(w);
        hub.happened(exited("p-1", Map.of("app", "db")));
        hub.happened(Event.of(EventKind.QUEUE_CLOSED, "q-1", Optional.empty(), Map.of()));
        hub.happened(exited("p-2", Map.of("app", "web", "tier", "front")));
        List<Delivery> got = drain(w);
        assertEquals(1, got.size());
        assertEquals("p-2", ((Delivery.Happened) got.get(0)).event().id());
        assertEquals(1, wakes.get());

        EventFilter byName = new EventFilter(Set.of(), Map.of(), Set.of("jobs"));
        assertTrue(byName.matches(Event.of(EventKind.QUEUE_CLOSED, "q-7", Optional.of("jobs"), Map.of())));
        assertTrue(byName.matches(Event.of(EventKind.QUEUE_CLOSED, "jobs", Optional.empty(), Map.of())));
        assertTrue(!byName.matches(Event.of(EventKind.QUEUE_CLOSED, "q-8", Optional.of("other"), Map.of())));
    }

    @Test
    void aChildSeesItsOwnLineageAndTheDataPlaneButNoAgentsNorOtherSessionsOfALockGrant() {
        Caller child = new Caller.Child("s-1", "p-1");
        Lineage mine = new Lineage("p-5", Optional.of(Lineage.root("p-1")));
        Event descendant = new Event(EventKind.PROCESS_STARTED, "p-5", Optional.empty(), Map.of(), Map.of(),
                Optional.empty(), Optional.of(mine), Optional.empty());
        Event stranger = exited("p-9", Map.of());
        Event agent = Event.of(EventKind.AGENT_LOST, "a-1", Optional.empty(), Map.of("cause", "died"));
        Event othersGrant = new Event(EventKind.LOCK_GRANTED, "l", Optional.of("l"), Map.of(), Map.of(),
                Optional.empty(), Optional.empty(), Optional.of("s-2"));
        Event ownGrant = new Event(EventKind.LOCK_GRANTED, "l", Optional.of("l"), Map.of(), Map.of(),
                Optional.empty(), Optional.empty(), Optional.of("s-1"));

        assertEquals(Optional.of(descendant), EventRights.asSeenBy(child, descendant));
        assertEquals(Optional.empty(), EventRights.asSeenBy(child, stranger));
        assertEquals(Optional.empty(), EventRights.asSeenBy(child, agent));
        assertEquals(Optional.empty(), EventRights.asSeenBy(child, othersGrant).orElseThrow().session());
        assertEquals(Optional.of("s-1"), EventRights.asSeenBy(child, ownGrant).orElseThrow().session());
        for (Event e : List.of(descendant, stranger, agent, othersGrant)) {
            assertEquals(Optional.of(e), EventRights.asSeenBy(Caller.ADMIN, e));
        }

        EventHub hub = new EventHub(CLOCK, EventHub.Limits.DEFAULT);
        EventHub.Watch w = hub.watch(EventFilter.ALL, e -> EventRights.asSeenBy(child, e), () -> {});
        hub.happened(stranger);
        hub.happened(agent);
        hub.happened(descendant);
        List<Delivery> got = drain(w);
        assertInstanceOf(Delivery.Started.class, got.get(0));
        assertEquals(2, got.size());
        assertEquals("p-5", ((Delivery.Happened) got.get(1)).event().id());
    }
}
