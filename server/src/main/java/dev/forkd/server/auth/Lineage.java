package dev.forkd.server.auth;

import java.util.Optional;

/**
 * Who spawned a process: its own id, and the lineage of the child process that spawned it (empty
 * when the admin did). Each record holds its node, so a lineage outlives the deletion of the records
 * of its ancestors, and shares their nodes (one small object per process, whatever the depth).
 */
public record Lineage(String processId, Optional<Lineage> parent) {

    /** A process the admin (or forkd itself, for a pool) spawned. */
    public static Lineage root(String processId) {
        return new Lineage(processId, Optional.empty());
    }

    /** This process, or one spawned by it or by its descendants. */
    public boolean isOrDescendsFrom(String ancestor) {
        for (Optional<Lineage> l = Optional.of(this); l.isPresent(); l = l.get().parent()) {
            if (l.get().processId().equals(ancestor)) {
                return true;
            }
        }
        return false;
    }
}
