package dev.forkd.client;

import dev.forkd.v1.Event;
import dev.forkd.v1.EventKind;
import dev.forkd.v1.WatchEventsRequest;
import dev.forkd.v1.WatchEventsResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Flow;

/** The event RPC, in the library's own types: the only event code that knows the protos. */
final class EventCalls {

    private final Rpc rpc;

    EventCalls(Rpc rpc) {
        this.rpc = rpc;
    }

    Flow.Publisher<ServerEvent> watch(EventFilter filter) {
        WatchEventsRequest.Builder b = WatchEventsRequest.newBuilder().putAllLabels(filter.labels())
                .addAllNames(filter.names());
        filter.kinds().forEach(k -> b.addKinds(EventKind.valueOf("EVENT_KIND_" + k.name())));
        WatchEventsRequest request = b.build();
        return new WatchPublisher<WatchEventsRequest, WatchEventsResponse, ServerEvent>(
                observer -> rpc.eventsAsync().watch(request, observer), EventCalls::event);
    }

    static Optional<ServerEvent> event(WatchEventsResponse r) {
        return switch (r.getMessageCase()) {
            case STARTED -> Optional.of(new ServerEvent.Started(r.getStarted().getSequence()));
            case MISSED -> Optional.of(new ServerEvent.Missed(r.getMissed().getCount()));
            case EVENT -> Optional.of(happened(r.getEvent()));
            case MESSAGE_NOT_SET -> Optional.empty(); // a message kind added later: skipped
        };
    }

    private static ServerEvent.Happened happened(Event e) {
        return new ServerEvent.Happened(e.getSequence(), kind(e.getKind()),
                Instant.ofEpochSecond(e.getTime().getSeconds(), e.getTime().getNanos()), e.getResourceType(),
                e.getId(), e.getName(), e.getLabelsMap(), e.getAttributesMap(),
                e.hasDuration() ? Optional.of(Duration.ofSeconds(e.getDuration().getSeconds(),
                        e.getDuration().getNanos())) : Optional.empty(),
                e.getSession().isEmpty() ? Optional.empty() : Optional.of(e.getSession()));
    }

    private static ServerEvent.Kind kind(EventKind k) {
        String name = k.name().replaceFirst("^EVENT_KIND_", "");
        for (ServerEvent.Kind known : ServerEvent.Kind.values()) {
            if (known.name().equals(name)) {
                return known;
            }
        }
        return ServerEvent.Kind.OTHER;
    }
}
