package dev.forkd.server.process;

import dev.forkd.server.memory.MemoryBudget;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A process's captured output: stdout and stderr interleaved as they arrived, addressed by byte
 * offset, kept up to a cap. Past the cap the oldest chunks are dropped and a reader asking for them
 * is told where the log resumes. Not thread-safe: its {@link ProcessRecord} guards it.
 *
 * <p>A holding watcher asks the agent to stop reading the child's pipes, but output already read
 * or in flight on the agent's stream still arrives. So {@link #append(Stream, ByteBuffer, long)} keeps
 * what such a watcher has not read yet past the cap, up to a hard ceiling of the cap plus
 * {@link #HOLD_SLACK} bytes, which bounds memory whatever the watcher does.
 *
 * <p>What it keeps is charged to the server's {@link MemoryBudget}. When the budget cannot hold new
 * output, the log drops its oldest output until what is left fits, exactly as past its cap (a
 * reader is told where the log resumes): logs shrink, the server does not run out. {@link #free}
 * gives everything back when the process record goes.
 */
public final class OutputLog {

    /**
     * One piece of output. {@code data} is read-only, from position 0, and never changes, so a
     * sender may wrap it without a copy.
     */
    public record Chunk(Stream stream, long offset, ByteBuffer data) {
        public int length() {
            return data.remaining();
        }

        public long end() {
            return offset + data.remaining();
        }

        /** This chunk without its bytes before {@code at} (offset <= at < end); a view, no copy. */
        Chunk from(long at) {
            if (at == offset) {
                return this;
            }
            int skip = (int) (at - offset);
            return new Chunk(stream, at, data.slice(skip, data.remaining() - skip));
        }

        /** A copy of the bytes. */
        public byte[] bytes() {
            byte[] copy = new byte[data.remaining()];
            data.duplicate().get(copy);
            return copy;
        }
    }

    public enum Stream { STDOUT, STDERR }

    /** What a read at an offset finds. */
    public sealed interface Read {
        /** Chunks starting at the offset asked (the first may be cut to start there). */
        record Data(List<Chunk> chunks) implements Read {}

        /** Output before {@code resumedAt} was dropped by the cap. */
        record Gap(long requested, long resumedAt) implements Read {}

        /**
         * Output from {@code from} to {@code resumedAt} was captured but lost: a supervisor that
         * stopped before keeping it (see {@link #skipTo}).
         */
        record Lost(long from, long resumedAt) implements Read {}

        /** Nothing at or past the offset yet. */
        record AtEnd(long end) implements Read {}
    }

    /** How far past its cap a log grows to keep output a holding watcher has not read. */
    public static final long HOLD_SLACK = 16L * 1024 * 1024;

    private final long limit;
    private final long slack;
    private final MemoryBudget memory;
    /** The bytes reserved from the budget: what is kept, {@code end - start}, after each change. */
    private long charged;
    private boolean freed;
    /**
     * Chunks in offset order from index {@code head}; those before it were dropped and are cleared
     * in batches. A list rather than a deque so a read finds its first chunk by binary search: a
     * follower reads at the end of a log of thousands of chunks, and scanning them all per read
     * was the supervisor's hottest code when streaming output.
     */
    private final ArrayList<Chunk> chunks = new ArrayList<>();
    private int head;
    private long start;
    private long end;

    public OutputLog(long limit) {
        this(limit, HOLD_SLACK);
    }

    /** A log capped at {@code limit} bytes that grows at most {@code slack} past it for a holder. */
    public OutputLog(long limit, long slack) {
        this(limit, slack, MemoryBudget.unlimited());
    }

    /** A capped log whose bytes are charged to the server's {@code memory} budget. */
    public OutputLog(long limit, long slack, MemoryBudget memory) {
        this.limit = limit;
        this.slack = slack;
        this.memory = memory;
    }

    public void append(Stream stream, byte[] data) {
        append(stream, ByteBuffer.wrap(data), Long.MAX_VALUE);
    }

    public void append(Stream stream, byte[] data, long keepFrom) {
        append(stream, ByteBuffer.wrap(data), keepFrom);
    }

    /**
     * Appends, dropping the oldest output past the cap, but none at or after {@code keepFrom} (the
     * slowest holding watcher's offset) unless the log would exceed the cap plus the slack. A chunk
     * that straddles the new start is cut there, so the newest output survives even a chunk bigger
     * than the cap.
     */
    public void append(Stream stream, ByteBuffer data, long keepFrom) {
        if (!data.hasRemaining() || freed) {
            return;
        }
        // Kept as given, not copied: the caller hands over bytes nobody changes (a parsed message's).
        Chunk chunk = new Chunk(stream, end, data.asReadOnlyBuffer().slice());
        chunks.add(chunk);
        end += chunk.length();
        cutTo(Math.max(Math.min(end - limit, keepFrom), end - limit - slack));
        charge();
    }

    /**
     * Brings the budget's reservation to what is kept. When the budget is short, the oldest output
     * goes (holders' too: the budget bounds the whole server) until the rest fits; at worst all of it.
     */
    private void charge() {
        while (true) {
            long delta = (end - start) - charged;
            if (delta <= 0) {
                memory.release(-delta);
                charged += delta;
                return;
            }
            if (memory.tryReserve(delta)) {
                charged += delta;
                return;
            }
            long room = charged + memory.available();
            cutTo(Math.max(start, end - room));
        }
    }

    /** Drops the output before {@code keep}, cutting a chunk that straddles it. */
    private void cutTo(long keep) {
        while (head < chunks.size() && chunks.get(head).end() <= keep) {
            dropFirst();
        }
        if (head < chunks.size() && chunks.get(head).offset() < keep) {
            chunks.set(head, chunks.get(head).from(keep));
            start = keep;
        } else if (keep > start) {
            start = Math.min(keep, end); // it falls in lost output (without any, start is there already)
        }
    }

    /**
     * Output up to {@code offset} was captured, but by a supervisor that stopped before keeping it:
     * the log's end moves there, and a reader of the bytes between is told they were lost
     * ({@link Read.Lost}) rather than reading the next output run together with the last. The hole
     * counts against the cap as the output it stood for did.
     */
    void skipTo(long offset) {
        if (offset <= end || freed) {
            return;
        }
        end = offset;
        cutTo(end - limit - slack);
        charge();
    }

    /**
     * Fills an empty log with output a previous supervisor kept ({@link OutputFiles}), as one run in
     * offset order: the log starts where the first chunk does, and new output follows the last.
     */
    void restore(List<OutputSegments.Stored> kept) {
        if (kept.isEmpty() || end != 0 || freed) {
            return;
        }
        start = kept.getFirst().offset();
        end = start;
        for (OutputSegments.Stored s : kept) {
            append(s.stream(), s.data(), Long.MAX_VALUE);
        }
    }

    /**
     * Drops everything kept and gives its bytes back to the budget; later output is ignored. For a
     * record that is going away.
     */
    public void free() {
        freed = true;
        cutTo(end);
        start = end;
        memory.release(charged);
        charged = 0;
    }

    /** Whether {@link #free} was called: the record is going away. */
    boolean isFreed() {
        return freed;
    }

    /** The bytes kept now (charged to the budget). */
    public long kept() {
        return end - start;
    }

    private void dropFirst() {
        start = chunks.get(head).end();
        chunks.set(head++, null);
        // Amortised O(1): the dropped prefix is cut once it is as long as what is kept.
        if (head >= 64 && head * 2 >= chunks.size()) {
            chunks.subList(0, head).clear();
            head = 0;
        }
    }

    public long start() {
        return start;
    }

    public long end() {
        return end;
    }

    /** Reads up to about {@code maxBytes} from {@code offset} (whole chunks, at least one). */
    public Read read(long offset, int maxBytes) {
        if (offset < start) {
            return new Read.Gap(offset, start);
        }
        if (offset >= end) {
            return new Read.AtEnd(end);
        }
        int first = firstEndingAfter(offset);
        if (first >= chunks.size() || chunks.get(first).end() <= offset) {
            return new Read.Lost(offset, end); // the hole is the end of the log (no output after it yet)
        }
        if (chunks.get(first).offset() > offset) {
            return new Read.Lost(offset, chunks.get(first).offset());
        }
        List<Chunk> out = new ArrayList<>(4);
        long bytes = 0;
        long next = offset;
        for (int i = first; i < chunks.size(); i++) {
            Chunk c = chunks.get(i);
            if (c.offset() > next) {
                break; // lost output: read on its own
            }
            Chunk piece = c.offset() < offset ? c.from(offset) : c;
            out.add(piece);
            bytes += piece.length();
            next = piece.end();
            if (bytes >= maxBytes) {
                break;
            }
        }
        return new Read.Data(out);
    }

    /**
     * The index of the first kept chunk that ends after {@code offset} (start <= offset < end); the
     * last one (or {@code head} with none kept) if none does, which only lost output can cause.
     */
    private int firstEndingAfter(long offset) {
        int lo = head;
        int hi = chunks.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (chunks.get(mid).end() <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
