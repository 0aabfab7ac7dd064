package dev.forkd.server.grpc;

import com.google.protobuf.Timestamp;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.events.Delivery;
import dev.forkd.server.events.Event;
import dev.forkd.server.events.EventFilter;
import dev.forkd.v1.EventsMissed;
import dev.forkd.v1.WatchEventsRequest;
import dev.forkd.v1.WatchEventsResponse;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** EventService's messages ↔ the event core; the one place that knows the generated event classes. */
final class EventMessages {

    /** Bounds on a filter: it is held for the life of the watch. */
    static final int MAX_FILTER_ENTRIES = 64;
    static final int MAX_FILTER_TEXT = 256;
    /** The longest attribute value sent (a pool failure's message can be long). */
    static final int MAX_ATTRIBUTE = 1000;

    private EventMessages() {}

    /** The whole request, checked: INVALID_ARGUMENT names the field. */
    static EventFilter filter(WatchEventsRequest r) {
        if (r.getKindsCount() > MAX_FILTER_ENTRIES || r.getLabelsCount() > MAX_FILTER_ENTRIES
                || r.getNamesCount() > MAX_FILTER_ENTRIES) {
            throw new InvalidArgument(r.getKindsCount() > MAX_FILTER_ENTRIES ? "kinds"
                    : r.getLabelsCount() > MAX_FILTER_ENTRIES ? "labels" : "names",
                    "must have at most " + MAX_FILTER_ENTRIES + " entries");
        }
        Set<dev.forkd.server.events.EventKind> kinds = EnumSet.noneOf(dev.forkd.server.events.EventKind.class);
        for (int i = 0; i < r.getKindsCount(); i++) {
            dev.forkd.v1.EventKind k = r.getKinds(i);
            if (k == dev.forkd.v1.EventKind.EVENT_KIND_UNSPECIFIED || k == dev.forkd.v1.EventKind.UNRECOGNIZED) {
                throw new InvalidArgument("kinds[" + i + "]", "must be a known event kind, not "
                        + (k == dev.forkd.v1.EventKind.UNRECOGNIZED ? "the number " + r.getKindsValue(i) : k.name()));
            }
            kinds.add(core(k));
        }
        Map<String, String> labels = new HashMap<>();
        for (Map.Entry<String, String> l : r.getLabelsMap().entrySet()) {
            text("labels", l.getKey());
            if (l.getValue().length() > MAX_FILTER_TEXT) {
                throw new InvalidArgument("labels", "a value must be at most " + MAX_FILTER_TEXT + " characters");
            }
            labels.put(l.getKey(), l.getValue());
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < r.getNamesCount(); i++) {
            names.add(text("names[" + i + "]", r.getNames(i)));
        }
        return new EventFilter(kinds, labels, names);
    }

    private static String text(String field, String s) {
        if (s.isEmpty() || s.length() > MAX_FILTER_TEXT) {
            throw new InvalidArgument(field, "must be 1-" + MAX_FILTER_TEXT + " characters");
        }
        return s;
    }

    static dev.forkd.server.events.EventKind core(dev.forkd.v1.EventKind k) {
        return dev.forkd.server.events.EventKind.valueOf(k.name().substring("EVENT_KIND_".length()));
    }

    static dev.forkd.v1.EventKind proto(dev.forkd.server.events.EventKind k) {
        return dev.forkd.v1.EventKind.valueOf("EVENT_KIND_" + k.name());
    }

    static WatchEventsResponse proto(Delivery d) {
        return switch (d) {
            case Delivery.Started st -> WatchEventsResponse.newBuilder()
                    .setStarted(dev.forkd.v1.WatchStarted.newBuilder().setSequence(st.sequence())).build();
            case Delivery.Missed m -> WatchEventsResponse.newBuilder()
                    .setMissed(EventsMissed.newBuilder().setCount(m.count())).build();
            case Delivery.Happened h -> {
                Event e = h.event();
                var b = dev.forkd.v1.Event.newBuilder()
                        .setSequence(h.sequence())
                        .setKind(proto(e.kind()))
                        .setTime(Timestamp.newBuilder().setSeconds(h.time().getEpochSecond()).setNanos(h.time().getNano()))
                        .setResourceType(e.kind().resourceType())
                        .setId(e.id())
                        .setName(e.name().orElse(""))
                        .putAllLabels(e.labels())
                        .setSession(e.session().orElse(""));
                e.attributes().forEach((k, v) -> b.putAttributes(k,
                        v.length() > MAX_ATTRIBUTE ? v.substring(0, MAX_ATTRIBUTE) + "…" : v));
                e.duration().ifPresent(t -> b.setDuration(com.google.protobuf.Duration.newBuilder()
                        .setSeconds(t.getSeconds()).setNanos(t.getNano())));
                yield WatchEventsResponse.newBuilder().setEvent(b).build();
            }
        };
    }
}
