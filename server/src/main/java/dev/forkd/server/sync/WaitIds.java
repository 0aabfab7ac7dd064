package dev.forkd.server.sync;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.sync.SyncResults.Callback;
import dev.forkd.server.sync.SyncResults.Grant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What became of the Acquires that carried a wait id, so that a caller who gave up on one without
 * seeing its answer can undo it: which were granted (and with which token), and which were
 * cancelled before they arrived. Bounded: past {@code max} marks the oldest are forgotten (a
 * CancelAcquire follows its Acquire within moments, so only a flood of grants loses one).
 *
 * <p>The grants are kept in the store too ({@link SyncJournal}): a caller whose answer was lost
 * with a crashed supervisor undoes the grant with the next one, whose session table resumed its
 * session with the grant held. Early cancels are not kept: no Acquire outlives the server it was
 * sent to. Not thread-safe: the {@link SyncTable} guards it with its own lock.
 */
final class WaitIds {

    static final int DEFAULT_MAX = 10_000;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    /** One caller's wait: its session and the id it chose. */
    record Key(String owner, String waitId) {}

    /** What is known of a wait id. */
    sealed interface Mark {
        /** It was granted this primitive, with this token. */
        record Granted(String name, long token) implements Mark {}

        /** Its caller cancelled it before it arrived: when it comes, it answers acquired=false. */
        record CancelledEarly() implements Mark {}
    }

    /** An Acquire's callback that remembers which wait it answers. */
    record Tracked(Key key, Callback<Grant> inner) implements Callback<Grant> {
        @Override
        public void done(Grant result) {
            inner.done(result);
        }

        @Override
        public void failed(dev.forkd.server.error.ForkdException e) {
            inner.failed(e);
        }
    }

    /** A change to the kept grants: {@code grant} empty when the mark is gone. */
    record Kept(Key key, Optional<Mark.Granted> grant) {}

    private final Map<Key, Mark> marks;
    /** Changes to the granted marks not yet handed to the store, in order (none when nothing keeps them). */
    private final List<Kept> unkept = new ArrayList<>();
    private final boolean keeps;

    WaitIds(int max) {
        this(max, false);
    }

    /** @param keeps whether a store keeps the grants: only then are their changes collected for it */
    WaitIds(int max, boolean keeps) {
        this.keeps = keeps;
        this.marks = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Mark> eldest) {
                boolean evict = size() > max;
                if (evict && keeps && eldest.getValue() instanceof Mark.Granted) {
                    unkept.add(new Kept(eldest.getKey(), Optional.empty()));
                }
                return evict;
            }
        };
    }

    /** Puts back the grants a store kept, oldest first. */
    void restore(List<Map.Entry<Key, Mark.Granted>> kept) {
        kept.forEach(e -> marks.put(e.getKey(), e.getValue()));
        // Nothing here is new to the store. (It never holds more than max grants, so none is evicted
        // on the way in; were one, its row would stay and be passed over again at the next start.)
        unkept.clear();
    }

    /** The changes to keep since the last call, in order. */
    List<Kept> drainUnkept() {
        var out = List.copyOf(unkept);
        unkept.clear();
        return out;
    }

    boolean hasUnkept() {
        return !unkept.isEmpty();
    }

    /** Checks a wait id from a request (empty is allowed where the id is optional). */
    static void check(String field, String waitId, boolean required) {
        if (waitId.isEmpty() && !required) {
            return;
        }
        if (!ID.matcher(waitId).matches()) {
            throw new InvalidArgument(field, waitId.isEmpty() ? "is required"
                    : "must be 1 to 64 letters, digits, '.', '_', ':' or '-'");
        }
    }

    /** The callback to hand to the wait: tracked when the caller gave an id. */
    static Callback<Grant> track(String owner, String waitId, Callback<Grant> done) {
        return waitId.isEmpty() ? done : new Tracked(new Key(owner, waitId), done);
    }

    /** A grant is being answered on {@code cb}: if its wait has an id, remember the grant. */
    void granted(Callback<Grant> cb, String name, Grant g) {
        if (cb instanceof Tracked t && g.acquired()) {
            marks.remove(t.key()); // re-inserted as the newest
            Mark.Granted mark = new Mark.Granted(name, g.fencingToken());
            marks.put(t.key(), mark);
            if (keeps) {
                unkept.add(new Kept(t.key(), Optional.of(mark)));
            }
        }
    }

    /** Whether this Acquire was cancelled before it arrived (the mark is used up). */
    boolean cancelledEarly(String owner, String waitId) {
        Key k = new Key(owner, waitId);
        if (marks.get(k) instanceof Mark.CancelledEarly) {
            marks.remove(k);
            return true;
        }
        return false;
    }

    /** The grant this wait received, if any (the mark is used up). */
    Optional<Mark.Granted> takeGrant(String owner, String waitId) {
        Key k = new Key(owner, waitId);
        if (marks.get(k) instanceof Mark.Granted g) {
            marks.remove(k);
            if (keeps) {
                unkept.add(new Kept(k, Optional.empty()));
            }
            return Optional.of(g);
        }
        return Optional.empty();
    }

    /** Remembers that this wait was cancelled before anything was known of it. */
    void cancelEarly(String owner, String waitId) {
        Key k = new Key(owner, waitId);
        marks.remove(k);
        marks.put(k, new Mark.CancelledEarly());
    }

    int size() {
        return marks.size();
    }
}
