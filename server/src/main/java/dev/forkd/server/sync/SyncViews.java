package dev.forkd.server.sync;

import static dev.forkd.server.sync.SyncTable.MAX_PARTIES;
import static dev.forkd.server.sync.SyncTable.MAX_SEMAPHORE_VALUE;

import dev.forkd.server.error.ForkdException.FailedPrecondition;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.FreeNames;
import dev.forkd.server.sync.Primitive.Barrier;
import dev.forkd.server.sync.Primitive.BarrierState;
import dev.forkd.server.sync.Primitive.Condition;
import dev.forkd.server.sync.Primitive.Event;
import dev.forkd.server.sync.Primitive.LockState;
import dev.forkd.server.sync.Primitive.Mutex;
import dev.forkd.server.sync.Primitive.Semaphore;
import dev.forkd.server.sync.SyncResults.Info;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** A new primitive from a create's arguments, a primitive as Get shows it, and the wrong-kind error. */
final class SyncViews {

    private SyncViews() {}

    /** Checks a create's arguments for its kind; {@code lookup} finds a condition's lock by name. */
    static Primitive newPrimitive(String name, SyncKind kind, int value, int parties, String lock,
            Function<String, Primitive> lookup) {
        return switch (kind) {
            case LOCK -> new Mutex(name, false);
            case RLOCK -> new Mutex(name, true);
            case SEMAPHORE, BOUNDED_SEMAPHORE -> {
                if (value < 0 || value > MAX_SEMAPHORE_VALUE) {
                    throw new InvalidArgument("value", "must be between 0 and " + MAX_SEMAPHORE_VALUE);
                }
                yield new Semaphore(name, kind == SyncKind.BOUNDED_SEMAPHORE, value);
            }
            case EVENT -> new Event(name);
            case CONDITION -> {
                String l = lock.isEmpty() ? name + ".lock" : lock;
                FreeNames.check(l);
                if (l.equals(name)) {
                    throw new InvalidArgument("lock", "must not be the condition's own name");
                }
                Primitive existing = lookup.apply(l);
                if (existing != null && !existing.kind().isLock()) {
                    throw wrongKind(existing, "a lock (for condition \"" + name + "\")");
                }
                yield new Condition(name, l);
            }
            case BARRIER -> {
                if (parties < 1 || parties > MAX_PARTIES) {
                    throw new InvalidArgument("parties", "must be between 1 and " + MAX_PARTIES);
                }
                yield new Barrier(name, parties);
            }
        };
    }

    static void requireKind(Primitive p, SyncKind kind) {
        if (p.kind() != kind) {
            throw wrongKind(p, kind.withArticle());
        }
    }

    static FailedPrecondition wrongKind(Primitive p, String wanted) {
        return new FailedPrecondition("WRONG_KIND", "\"" + p.name + "\" is " + p.kind().withArticle()
                + ", not " + wanted, Map.of("name", p.name, "kind", p.kind().name()));
    }

    static Info info(Primitive p) {
        return switch (p) {
            case Mutex m -> {
                Optional<String> holder = m.state instanceof LockState.Held h ? Optional.of(h.owner()) : Optional.empty();
                int depth = m.state instanceof LockState.Held h ? h.depth() : 0;
                yield new Info(p.name, p.kind(), holder, depth, m.lastToken, m.waiters.size(), 0, 0, false, "", 0, 0, false);
            }
            case Semaphore s -> new Info(p.name, p.kind(), Optional.empty(), 0, s.lastToken, s.waiters.size(),
                    s.value, s.initial, false, "", 0, 0, false);
            case Event e -> new Info(p.name, p.kind(), Optional.empty(), 0, 0, e.waiters.size(), 0, 0, e.set, "", 0, 0, false);
            case Condition c -> new Info(p.name, p.kind(), Optional.empty(), 0, 0, c.waiters.size(), 0, 0, false,
                    c.lock, 0, 0, false);
            case Barrier b -> new Info(p.name, p.kind(), Optional.empty(), 0, 0, b.waiters.size(), 0, 0, false, "",
                    b.parties, b.waiters.size(), b.state instanceof BarrierState.Broken);
        };
    }
}
