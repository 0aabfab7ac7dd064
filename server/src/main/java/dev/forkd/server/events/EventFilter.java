package dev.forkd.server.events;

import java.util.Map;
import java.util.Set;

/**
 * Which events a watcher wants: every part given must match (kinds: any of them; labels: all of
 * them; names: any of them, as the resource's id or name). An empty part matches everything.
 */
public record EventFilter(Set<EventKind> kinds, Map<String, String> labels, Set<String> names) {

    public static final EventFilter ALL = new EventFilter(Set.of(), Map.of(), Set.of());

    public EventFilter {
        kinds = Set.copyOf(kinds);
        labels = Map.copyOf(labels);
        names = Set.copyOf(names);
    }

    public boolean matches(Event e) {
        if (!kinds.isEmpty() && !kinds.contains(e.kind())) {
            return false;
        }
        for (Map.Entry<String, String> l : labels.entrySet()) {
            if (!l.getValue().equals(e.labels().get(l.getKey()))) {
                return false;
            }
        }
        return names.isEmpty() || names.contains(e.id()) || e.name().filter(names::contains).isPresent();
    }
}
