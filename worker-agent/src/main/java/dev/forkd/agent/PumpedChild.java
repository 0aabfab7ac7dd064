package dev.forkd.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** The pump's state for one child (pump thread only). */
final class PumpedChild {
    final Child child;
    final List<PipeReader> readers = new ArrayList<>(2);
    final Optional<StdinWriter> stdin;
    OptionalInt exitCode = OptionalInt.empty();
    /** When the pipes are closed even without EOF (an escaped descendant may hold them open). */
    long drainDeadlineNanos;
    /** The supervisor asked to stop reading its output for now. */
    boolean held;
    /** The bytes of its output sent so far, both streams: the offset of the next chunk in its run. */
    long sent;

    PumpedChild(Child child, Optional<StdinWriter> stdin) {
        this.child = child;
        this.stdin = stdin;
    }

    boolean outputDone() {
        return readers.stream().noneMatch(r -> r.open);
    }
}
