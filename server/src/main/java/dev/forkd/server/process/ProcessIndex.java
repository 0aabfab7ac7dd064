package dev.forkd.server.process;

import dev.forkd.server.auth.Lineage;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.memory.MemoryBudget;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The table's records: by id and by name, how many there are (admission of a new one is one atomic
 * step, so concurrent spawns cannot overshoot the limit), and the daemons of each session. Ids are
 * never reused: new ones continue after the highest one, restored ones, the newest deleted one and
 * those returning agents report included.
 */
final class ProcessIndex {

    /**
     * The budget a spawn needs free: with less, a new process's output would be dropped as soon as
     * it is written, so the spawn is refused instead (its log still shrinks if the budget fills later).
     */
    static final long MIN_OUTPUT_BYTES = 64 * 1024;
    /**
     * The most digits of a reported id that moves new ids on: more than this table could ever have
     * given, and few enough that the next id cannot overflow.
     */
    private static final int MAX_ID_DIGITS = 15;

    private final int maxProcesses;
    private final MemoryBudget memory;
    private final Map<String, ProcessRecord> records = new ConcurrentHashMap<>();
    /** Daemon records by the session that spawned them, so a session's end finds its daemons at once. */
    private final Map<String, Set<ProcessRecord>> daemonsBySession = new ConcurrentHashMap<>();
    private final Map<String, String> names = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();
    /** Records in the table, counted apart from the map so that admission is one atomic step. */
    private final AtomicInteger recordCount = new AtomicInteger();

    ProcessIndex(int maxProcesses, MemoryBudget memory) {
        this.maxProcesses = maxProcesses;
        this.memory = memory;
    }

    /**
     * Admits a new record for {@code spec}, spawned by {@code parent} (empty: by the admin): it has
     * its id, its name and its place in the count, and is not yet visible. Refusals throw.
     */
    ProcessRecord admit(ProcessSpec spec, Optional<String> parent, Instant now) {
        // The check and the count are one step, so concurrent spawns cannot overshoot the limit.
        if (recordCount.getAndUpdate(c -> c < maxProcesses ? c + 1 : c) >= maxProcesses) {
            throw new ForkdException.ResourceExhausted("PROCESS_TABLE_FULL",
                    "the process table holds " + maxProcesses + " records (max " + maxProcesses
                            + "); delete ended processes");
        }
        if (memory.available() < MIN_OUTPUT_BYTES) {
            recordCount.decrementAndGet(); // refused: its place is free again
            throw memory.exhausted(MIN_OUTPUT_BYTES, "the output of a new process");
        }
        long n = seq.incrementAndGet();
        String id = "p-" + n;
        if (spec.name().isPresent() && names.putIfAbsent(spec.name().get(), id) != null) {
            recordCount.decrementAndGet();
            throw new ForkdException.AlreadyExists("process", spec.name().get());
        }
        ProcessRecord rec = new ProcessRecord(id, n, spec, now, memory);
        rec.lineage = new Lineage(id, parent.map(p -> {
            ProcessRecord up = records.get(p);
            return up == null ? Lineage.root(p) : up.lineage;
        }));
        return rec;
    }

    /** Makes an admitted record visible, by id and, for a daemon, under its session. */
    void publish(ProcessRecord rec) {
        records.put(rec.id, rec);
        daemonOf(rec).ifPresent(sid -> daemonsBySession.computeIfAbsent(sid, k -> ConcurrentHashMap.newKeySet()).add(rec));
    }

    /** A restored record joins the table; new ids continue after the highest one (never reused). */
    void restored(ProcessRecord rec) {
        records.put(rec.id, rec);
        recordCount.incrementAndGet();
        seq.accumulateAndGet(rec.seq, Math::max);
        rec.spec.name().ifPresent(n -> names.put(n, rec.id));
        daemonOf(rec).ifPresent(sid -> daemonsBySession.computeIfAbsent(sid, k -> ConcurrentHashMap.newKeySet()).add(rec));
    }

    /** New ids continue after {@code seq} too: that of the newest deleted record, kept by the store. */
    void continueAfter(long seq) {
        this.seq.accumulateAndGet(seq, Math::max);
    }

    /**
     * New ids continue after {@code id} too (one an agent reports, which may have no kept record);
     * an id that is not this table's {@code p-N}, or has more than {@link #MAX_ID_DIGITS} digits,
     * changes nothing.
     */
    void continueAfterId(String id) {
        String digits = id.startsWith("p-") ? id.substring(2) : "";
        if (!digits.isEmpty() && digits.length() <= MAX_ID_DIGITS
                && digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            continueAfter(Long.parseLong(digits));
        }
    }

    /**
     * Takes {@code rec} out of the table, by id, name and session.
     *
     * @return whether it was still there (then it no longer counts)
     */
    boolean remove(ProcessRecord rec) {
        boolean removed = records.remove(rec.id, rec);
        if (removed) {
            recordCount.decrementAndGet();
        }
        daemonOf(rec).ifPresent(sid -> daemonsBySession.computeIfPresent(sid, (k, set) -> {
            set.remove(rec);
            return set.isEmpty() ? null : set;
        }));
        rec.spec.name().ifPresent(n -> names.remove(n, rec.id));
        return removed;
    }

    /** The record of an id or a name; NOT_FOUND if none. */
    ProcessRecord find(String idOrName) {
        ProcessRecord rec = records.get(idOrName);
        if (rec == null) {
            String id = names.get(idOrName);
            rec = id == null ? null : records.get(id);
        }
        if (rec == null) {
            throw new ForkdException.NotFound("process", idOrName);
        }
        return rec;
    }

    /** The record of an id an agent reports on; null if the table no longer has it. */
    ProcessRecord byId(String id) {
        return records.get(id);
    }

    /** Whether {@code rec} is still the table's record of its id (false once deleted). */
    boolean holds(ProcessRecord rec) {
        return records.get(rec.id) == rec;
    }

    Collection<ProcessRecord> all() {
        return records.values();
    }

    /** The daemons {@code sessionId} spawned, from the index rather than a pass over all records. */
    List<ProcessRecord> daemonsOf(String sessionId) {
        return List.copyOf(daemonsBySession.getOrDefault(sessionId, Set.of()));
    }

    /** The session a daemon belongs to; empty for a process that is not a daemon of a session. */
    static Optional<String> daemonOf(ProcessRecord rec) {
        return rec.spec.daemon() ? rec.spec.sessionId() : Optional.empty();
    }

    /** Processes matching {@code filter}, oldest first, starting after sequence {@code afterSeq}. */
    List<ProcessSnapshot> list(Predicate<ProcessSnapshot> filter, long afterSeq, int limit) {
        List<ProcessRecord> sorted = new ArrayList<>(records.values());
        sorted.sort(Comparator.comparingLong(r -> r.seq));
        List<ProcessSnapshot> out = new ArrayList<>();
        for (ProcessRecord rec : sorted) {
            if (rec.seq <= afterSeq) {
                continue;
            }
            ProcessSnapshot s;
            synchronized (rec) {
                s = rec.snapshot();
            }
            if (filter.test(s)) {
                out.add(s);
                if (out.size() > limit) {
                    break;
                }
            }
        }
        return out;
    }

    /** The sequence number of a process, for page tokens; 0 if none. */
    long seqOf(String id) {
        ProcessRecord rec = records.get(id);
        return rec == null ? 0 : rec.seq;
    }

    /** Counts of records by state name, for status. */
    Map<String, Integer> countByState() {
        Map<String, Integer> counts = new TreeMap<>();
        for (ProcessRecord rec : records.values()) {
            synchronized (rec) {
                counts.merge(ProcessTable.stateName(rec.state), 1, Integer::sum);
            }
        }
        return counts;
    }
}
