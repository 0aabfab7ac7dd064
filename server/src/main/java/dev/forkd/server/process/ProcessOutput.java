package dev.forkd.server.process;

import dev.forkd.server.events.ServerEvents;
import dev.forkd.server.process.ProcessTable.WatchHandle;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A process's output on its way to readers: each chunk an agent reports goes into the record's log
 * (and its capture time, and the kept files), and watchers read it from there. A holding watcher
 * loses nothing: while the slowest one is more than half the output cap behind, the child's output is
 * held at its agent, and resumed once every one is within a quarter of it. A spawn with
 * {@code hold_output} holds from offset 0 until such a watcher attaches.
 */
final class ProcessOutput {

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(ProcessOutput.class.getName());

    /** A spawn's hold lasts until a holding watcher attaches, or this long if none does. */
    static final Duration SPAWN_HOLD_LIMIT = Duration.ofSeconds(30);

    private final ProcessRecords kept;
    private final ServerEvents events;
    private final ScheduledExecutorService timers;
    private final Clock clock;
    /** Whether a record is still in the table (a watcher asks, to see its process deleted). */
    private final Predicate<ProcessRecord> inTable;

    ProcessOutput(ProcessRecords kept, ServerEvents events, ScheduledExecutorService timers, Clock clock,
            Predicate<ProcessRecord> inTable) {
        this.kept = kept;
        this.events = events;
        this.timers = timers;
        this.clock = clock;
        this.inTable = inTable;
    }

    /** A new record whose spawn asked for {@code hold_output}: its output is held for a watcher. */
    void holdUntilWatched(ProcessRecord rec) {
        synchronized (rec) {
            rec.holders.put(rec.spawnHold, 0L);
        }
        timers.schedule(() -> releaseSpawnHold(rec), SPAWN_HOLD_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A chunk of the current run's output: logged, kept, and held back if a holder lags. Its agent
     * sent {@code runOffset} bytes of the run before it (negative: unknown); if the log holds fewer,
     * the difference was lost with a supervisor that stopped before keeping it, and the log says so.
     * Monitor held.
     */
    void captured(ProcessRecord rec, OutputLog.Stream stream, ByteBuffer data, long runOffset) {
        if (runOffset >= 0 && rec.runOutputStart + runOffset > rec.output.end()) {
            long from = rec.output.end();
            rec.output.skipTo(rec.runOutputStart + runOffset);
            LOG.warning(() -> "process " + rec.id + ": " + (rec.output.end() - from) + " bytes of output (offsets "
                    + from + "-" + rec.output.end() + ") were lost when the previous server stopped");
        }
        long slowest = slowestHolder(rec);
        long bytes = data.remaining();
        long startBefore = rec.output.start();
        rec.outputTimes.captured(rec.output.end(), bytes, clock.instant(), startBefore);
        kept.output(rec, stream, rec.output.end(), data.duplicate());
        rec.output.append(stream, data, slowest);
        events.outputCaptured(bytes, rec.output.start() - startBefore);
        if (!rec.outputHeld && rec.agent != null && behind(rec, slowest) > rec.spec.outputLimit() / 2) {
            rec.outputHeld = true;
            rec.agent.holdOutput(rec.id, rec.run, true);
        }
    }

    /** The offset of the first output byte captured at or after {@code since}. Monitor held. */
    long offsetSince(ProcessRecord rec, Instant since) {
        return rec.outputTimes.offsetSince(since, rec.output.start(), rec.output.end());
    }

    /** A watcher of {@code rec}; with {@code hold}, a holder that starts at {@code fromOffset}. */
    WatchHandle watch(ProcessRecord rec, Runnable onChange, Runnable onOutput, boolean hold, long fromOffset) {
        rec.listeners.add(onChange);
        rec.outputListeners.add(onOutput);
        Object holder = new Object();
        if (hold) {
            synchronized (rec) {
                rec.holders.put(holder, fromOffset);
                // The watcher the spawn held for is here: from now on its cursor decides.
                dropSpawnHold(rec);
            }
        }
        return new WatchHandle() {
            @Override
            public void readUpTo(long offset) {
                if (hold) {
                    synchronized (rec) {
                        rec.holders.put(holder, offset);
                        maybeResume(rec);
                    }
                }
            }

            @Override
            public ProcessSnapshot snapshot() {
                synchronized (rec) {
                    return rec.snapshot();
                }
            }

            @Override
            public OutputLog.Read read(long offset, int maxBytes) {
                synchronized (rec) {
                    return rec.output.read(offset, maxBytes);
                }
            }

            @Override
            public boolean exists() {
                return inTable.test(rec);
            }

            @Override
            public void close() {
                rec.listeners.remove(onChange);
                rec.outputListeners.remove(onOutput);
                if (hold) {
                    synchronized (rec) {
                        rec.holders.remove(holder);
                        maybeResume(rec);
                    }
                }
            }
        };
    }

    private static void releaseSpawnHold(ProcessRecord rec) {
        synchronized (rec) {
            dropSpawnHold(rec);
        }
    }

    /** Ends a spawn's hold, if it still stands. Monitor held. */
    private static void dropSpawnHold(ProcessRecord rec) {
        if (rec.holders.remove(rec.spawnHold) != null) {
            maybeResume(rec);
        }
    }

    /** How far a holder at {@code offset} is behind the end of the output (0 without holders). */
    private static long behind(ProcessRecord rec, long offset) {
        return offset == Long.MAX_VALUE ? 0 : Math.max(0, rec.output.end() - offset);
    }

    /** The offset of the slowest holding watcher, or {@code Long.MAX_VALUE} if none. Monitor held. */
    private static long slowestHolder(ProcessRecord rec) {
        long min = Long.MAX_VALUE;
        for (long cursor : rec.holders.values()) {
            min = Math.min(min, cursor);
        }
        return min;
    }

    /** Resumes held output once every holding watcher is within a quarter of the cap. Monitor held. */
    private static void maybeResume(ProcessRecord rec) {
        if (rec.outputHeld && behind(rec, slowestHolder(rec)) <= rec.spec.outputLimit() / 4) {
            rec.outputHeld = false;
            if (rec.agent != null && rec.state instanceof ProcessState.Running) {
                rec.agent.holdOutput(rec.id, rec.run, false);
            }
        }
    }
}
