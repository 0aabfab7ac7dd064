package dev.forkd.client;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which events a subscriber gets: all of them ({@link #ALL}), or only those of some kinds, whose
 * resource has all the given labels, about the resources named (by id or name). Empty means any.
 */
public record EventFilter(Set<ServerEvent.Kind> kinds, Map<String, String> labels, List<String> names) {

    public static final EventFilter ALL = new EventFilter(Set.of(), Map.of(), List.of());

    public EventFilter {
        kinds = Set.copyOf(kinds);
        labels = Map.copyOf(labels);
        names = List.copyOf(names);
        if (kinds.contains(ServerEvent.Kind.OTHER)) {
            throw new IllegalArgumentException("OTHER stands for kinds this library does not know; it cannot be"
                    + " asked for");
        }
    }

    public static EventFilter kinds(ServerEvent.Kind... kinds) {
        return new EventFilter(Set.of(kinds), Map.of(), List.of());
    }

    public EventFilter withLabel(String key, String value) {
        var l = new java.util.HashMap<>(labels);
        l.put(key, value);
        return new EventFilter(kinds, l, names);
    }

    public EventFilter withNames(String... idsOrNames) {
        return new EventFilter(kinds, labels, List.of(idsOrNames));
    }
}
