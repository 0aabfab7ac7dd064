package dev.forkd.server.pool;

import java.util.ArrayDeque;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The results of one Map stream on their way out: in input order (a result waits for those before
 * it, and an index skipped after a halt is passed over), or as they come. Counts what it let out
 * and what was skipped. Not thread-safe: its stream guards it.
 */
public final class MapResults {

    private final boolean ordered;
    /** In order: results that came before their turn. */
    private final TreeMap<Long, TaskResult> waiting = new TreeMap<>();
    /** In order: indices skipped and not yet passed over. */
    private final TreeSet<Long> skipped = new TreeSet<>();
    /** As they come. */
    private final ArrayDeque<TaskResult> ready = new ArrayDeque<>();
    private long nextToEmit;
    private long sent;
    private long skippedCount;

    public MapResults(boolean ordered) {
        this.ordered = ordered;
    }

    public void add(TaskResult r) {
        if (ordered) {
            waiting.put(r.index(), r);
        } else {
            ready.addLast(r);
        }
    }

    /** The task at {@code index} will have no result (skipped after a halt). */
    public void skip(long index) {
        skippedCount++;
        if (ordered) {
            skipped.add(index);
        }
    }

    /** The next result that may leave now, or null; counted as sent. */
    public TaskResult next() {
        TaskResult r;
        if (ordered) {
            while (skipped.remove(nextToEmit)) {
                nextToEmit++;
            }
            r = waiting.isEmpty() || waiting.firstKey() != nextToEmit ? null : waiting.pollFirstEntry().getValue();
            if (r != null) {
                nextToEmit++;
            }
        } else {
            r = ready.pollFirst();
        }
        if (r != null) {
            sent++;
        }
        return r;
    }

    /** Results let out plus tasks skipped: once it reaches the tasks received, nothing more will come. */
    public long accountedFor() {
        return sent + skippedCount;
    }

    /** Results let out so far. */
    public long sent() {
        return sent;
    }

    /** Drops what has not left (the stream ended). */
    public void clear() {
        waiting.clear();
        skipped.clear();
        ready.clear();
    }
}
