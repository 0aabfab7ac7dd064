package dev.forkd.server.process;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A process's captured output: stdout and stderr interleaved as they arrived, addressed by byte
 * offset, kept up to a cap. Past the cap the oldest chunks are dropped and a reader asking for them
 * is told where the log resumes. Not thread-safe: its {@link ProcessRecord} guards it.
 *
 * <p>A holding watcher asks the agent to stop reading the child's pipes, but output already read
 * or in flight on the agent's stream still arrives. So {@link #append(Stream, byte[], long)} keeps
 * what such a watcher has not read yet past the cap, up to a hard ceiling of the cap plus
 * {@link #HOLD_SLACK} bytes, which bounds memory whatever the watcher does.
 */
public final class OutputLog {

    /** One piece of output. */
    public record Chunk(Stream stream, long offset, byte[] data) {
        public long end() {
            return offset + data.length;
        }
    }

    public enum Stream { STDOUT, STDERR }

    /** What a read at an offset finds. */
    public sealed interface Read {
        /** Chunks starting at the offset asked (the first may be cut to start there). */
        record Data(List<Chunk> chunks) implements Read {}

        /** Output before {@code resumedAt} was dropped by the cap. */
        record Gap(long requested, long resumedAt) implements Read {}

        /** Nothing at or past the offset yet. */
        record AtEnd(long end) implements Read {}
    }

    /** How far past its cap a log grows to keep output a holding watcher has not read. */
    public static final long HOLD_SLACK = 16L * 1024 * 1024;

    private final long limit;
    private final long slack;
    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    private long start;
    private long end;

    public OutputLog(long limit) {
        this(limit, HOLD_SLACK);
    }

    /** A log capped at {@code limit} bytes that grows at most {@code slack} past it for a holder. */
    public OutputLog(long limit, long slack) {
        this.limit = limit;
        this.slack = slack;
    }

    public void append(Stream stream, byte[] data) {
        append(stream, data, Long.MAX_VALUE);
    }

    /**
     * Appends, dropping the oldest chunks past the cap, but none that ends after {@code keepFrom}
     * (the slowest holding watcher's offset) unless the log would exceed the cap plus the slack.
     */
    public void append(Stream stream, byte[] data, long keepFrom) {
        if (data.length == 0) {
            return;
        }
        chunks.addLast(new Chunk(stream, end, data));
        end += data.length;
        while (end - start > limit && !chunks.isEmpty() && chunks.peekFirst().end() <= keepFrom) {
            start = chunks.removeFirst().end();
        }
        while (end - start > limit + slack && !chunks.isEmpty()) {
            start = chunks.removeFirst().end();
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
        List<Chunk> out = new ArrayList<>();
        long bytes = 0;
        // Chunks are in offset order; skip those wholly before the offset.
        for (Chunk c : chunks) {
            if (c.end() <= offset) {
                continue;
            }
            Chunk piece = c;
            if (c.offset() < offset) {
                int skip = (int) (offset - c.offset());
                byte[] rest = java.util.Arrays.copyOfRange(c.data(), skip, c.data().length);
                piece = new Chunk(c.stream(), offset, rest);
            }
            out.add(piece);
            bytes += piece.data().length;
            if (bytes >= maxBytes) {
                break;
            }
        }
        return new Read.Data(out);
    }
}
