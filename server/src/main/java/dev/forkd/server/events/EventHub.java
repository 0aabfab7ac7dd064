package dev.forkd.server.events;

import dev.forkd.server.error.ForkdException;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The server-wide event stream. Each event gets the next sequence number and the time, and is
 * offered to every watcher whose filter and rights let it through. A watcher's buffer is bounded:
 * one that falls behind loses the newest events and is told how many ("missed N"), and the server
 * never waits for it. Watchers are capped too.
 *
 * <p>Publishing takes the hub's monitor and then a watcher's; neither calls out while held except
 * a watcher's {@code onReady}, which must only schedule work. So cores may publish under their own
 * monitors.
 */
public final class EventHub implements ServerEvents {

    /** How many watchers at once, and how many undelivered events each may have. */
    public record Limits(int maxWatchers, int bufferPerWatcher) {
        public static final Limits DEFAULT = new Limits(64, 4096);

        public Limits {
            if (maxWatchers < 1 || bufferPerWatcher < 1) {
                throw new IllegalArgumentException("event watcher limits must be positive");
            }
        }
    }

    private final Clock clock;
    private final Limits limits;
    /** Copy-on-write: watchers come and go rarely, events are many, and a watch may close as it is offered one. */
    private final List<Watch> watchers = new CopyOnWriteArrayList<>();
    private long sequence;

    public EventHub(Clock clock, Limits limits) {
        this.clock = clock;
        this.limits = limits;
    }

    @Override
    public synchronized void happened(Event event) {
        if (watchers.isEmpty()) {
            sequence++;
            return;
        }
        Delivery.Happened d = new Delivery.Happened(++sequence, clock.instant(), event);
        for (Watch w : watchers) {
            w.offer(d);
        }
    }

    /**
     * A new watcher: it gets {@link Delivery.Started} first, then the events from now on that {@code filter} matches, as {@code seenAs}
     * shows them (empty: not for this watcher). {@code onReady} is called when something arrives; it
     * must not block. Close the watch to end it.
     *
     * @throws ForkdException.ResourceExhausted (reason {@code TOO_MANY_EVENT_WATCHERS}) at the cap
     */
    public synchronized Watch watch(EventFilter filter, Function<Event, Optional<Event>> seenAs, Runnable onReady) {
        if (watchers.size() >= limits.maxWatchers()) {
            throw new ForkdException.ResourceExhausted("TOO_MANY_EVENT_WATCHERS", limits.maxWatchers()
                    + " event watchers are already connected (the server's limit); close one and retry");
        }
        Watch w = new Watch(filter, seenAs, onReady);
        w.buffer.add(new Delivery.Started(sequence));
        watchers.add(w);
        return w;
    }

    public synchronized int watcherCount() {
        return watchers.size();
    }

    private synchronized void remove(Watch w) {
        watchers.remove(w);
    }

    /** One watcher's view: its filter, its rights, its bounded buffer. */
    public final class Watch implements AutoCloseable {
        private final EventFilter filter;
        private final Function<Event, Optional<Event>> seenAs;
        private final Runnable onReady;
        private final ArrayDeque<Delivery> buffer = new ArrayDeque<>();

        private Watch(EventFilter filter, Function<Event, Optional<Event>> seenAs, Runnable onReady) {
            this.filter = filter;
            this.seenAs = seenAs;
            this.onReady = onReady;
        }

        private void offer(Delivery.Happened d) {
            if (!filter.matches(d.event())) {
                return;
            }
            Optional<Event> seen = seenAs.apply(d.event());
            if (seen.isEmpty()) {
                return;
            }
            synchronized (this) {
                if (buffer.size() < limits.bufferPerWatcher()) {
                    buffer.addLast(new Delivery.Happened(d.sequence(), d.time(), seen.get()));
                } else if (buffer.peekLast() instanceof Delivery.Missed m) {
                    buffer.pollLast();
                    buffer.addLast(new Delivery.Missed(m.count() + 1));
                } else {
                    // One slot past the bound, for the marker that says what was lost here.
                    buffer.addLast(new Delivery.Missed(1));
                }
            }
            try {
                onReady.run();
            } catch (RuntimeException e) {
                // Its stream is going away (the server is stopping): the publisher, a core, must not hear of it.
                close();
            }
        }

        /** The next delivery, in order; empty when the watcher has caught up. */
        public synchronized Optional<Delivery> poll() {
            return Optional.ofNullable(buffer.pollFirst());
        }

        /** Ends the watch; the hub forgets it at once. Idempotent. */
        @Override
        public void close() {
            remove(this);
            synchronized (this) {
                buffer.clear();
            }
        }
    }
}
