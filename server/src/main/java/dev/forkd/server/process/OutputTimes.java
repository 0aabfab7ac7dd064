package dev.forkd.server.process;

import java.time.Instant;
import java.util.Arrays;

/**
 * When a process's output was captured, for {@code forkd logs --since}: spans of its log, each the
 * offset it starts at and the times its first and last bytes arrived. Each chunk is a span of its own, so
 * the answer is exact until the log has
 * {@link #MAX_SPANS} of them; then neighbours are merged in pairs, and a merged span answers for
 * its last byte's time: {@code --since} may then show a little earlier output, never miss later.
 * Spans wholly before the log's start (dropped by its cap) are let go. Bounded; not thread-safe:
 * its {@link ProcessRecord} guards it.
 */
final class OutputTimes {

    /** Spans kept at most: 24 bytes each, so a process never holds more than 12 KiB of them. */
    static final int MAX_SPANS = 512;

    private long[] offsets = new long[0];
    private long[] first = new long[0];
    private long[] last = new long[0];
    private int size;

    /** {@code length} bytes at {@code offset} arrived at {@code now}; the log starts at {@code logStart}. */
    void captured(long offset, long length, Instant now, long logStart) {
        if (length <= 0) {
            return;
        }
        dropBefore(logStart);
        long t = nanos(now);
        if (size == MAX_SPANS) {
            halve();
        }
        if (size == offsets.length) {
            int cap = Math.min(MAX_SPANS, Math.max(8, size * 2));
            offsets = Arrays.copyOf(offsets, cap);
            first = Arrays.copyOf(first, cap);
            last = Arrays.copyOf(last, cap);
        }
        offsets[size] = offset;
        first[size] = t;
        last[size] = t;
        size++;
    }

    /**
     * The offset from which all output captured at or after {@code since} is kept: the start of the
     * first span whose last byte came then or later (no earlier than {@code logStart}), else
     * {@code logEnd} (nothing captured since).
     */
    long offsetSince(Instant since, long logStart, long logEnd) {
        long t = nanos(since);
        for (int i = 0; i < size; i++) {
            if (last[i] >= t) {
                return Math.min(logEnd, Math.max(logStart, offsets[i]));
            }
        }
        return logEnd;
    }

    int spans() {
        return size;
    }

    /** Lets go of the spans that end at or before {@code logStart}. */
    private void dropBefore(long logStart) {
        int drop = 0;
        while (drop + 1 < size && offsets[drop + 1] <= logStart) {
            drop++;
        }
        if (drop > 0) {
            System.arraycopy(offsets, drop, offsets, 0, size - drop);
            System.arraycopy(first, drop, first, 0, size - drop);
            System.arraycopy(last, drop, last, 0, size - drop);
            size -= drop;
        }
    }

    /** Merges neighbours in pairs: each keeps its first offset and time, and the later last time. */
    private void halve() {
        int n = 0;
        for (int i = 0; i < size; i += 2) {
            offsets[n] = offsets[i];
            first[n] = first[i];
            last[n] = i + 1 < size ? last[i + 1] : last[i];
            n++;
        }
        size = n;
    }

    /** Nanoseconds since the epoch, saturated (a time a client sends may be anything). */
    private static long nanos(Instant t) {
        if (t.getEpochSecond() >= Long.MAX_VALUE / 1_000_000_000L - 1) {
            return Long.MAX_VALUE;
        }
        if (t.getEpochSecond() <= Long.MIN_VALUE / 1_000_000_000L + 1) {
            return Long.MIN_VALUE;
        }
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }
}
