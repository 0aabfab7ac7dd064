package dev.forkd.cli;

import com.google.protobuf.ByteString;
import dev.forkd.v1.OutputChunk;
import dev.forkd.v1.OutputStream;
import dev.forkd.v1.WatchProcessResponse;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * {@code logs --tail N}: the last N lines of what the log holds now, as tail(1) counts them (an
 * unterminated last line counts). Stdout and stderr are one log, interleaved as they arrived, so the
 * lines are counted across both and each piece still goes to its own stream. What is read is bounded
 * by the server's per-process output cap, the most a log keeps. Output lost where the tail's lines
 * are (dropped by the cap, or lost when a server stopped) is told on stderr at its place, as
 * {@link OutputSink} tells it.
 */
final class LogTail {

    /**
     * A run of bytes from one stream that holds at most one newline, at its end; or, with
     * {@code notice} set, a line telling of output lost at this place (it ends no line).
     */
    private record Piece(OutputStream stream, ByteString data, String notice) {
        Piece(OutputStream stream, ByteString data) {
            this(stream, data, null);
        }

        static Piece notice(String line) {
            return new Piece(OutputStream.OUTPUT_STREAM_STDERR, ByteString.EMPTY, line);
        }

        boolean endsLine() {
            return !data.isEmpty() && data.byteAt(data.size() - 1) == '\n';
        }
    }

    private final List<Piece> pieces = new ArrayList<>();
    private long end;

    private LogTail(long from) {
        this.end = from;
    }

    /** Reads a watch that is not following to its end; {@link #end()} is then where the log stopped. */
    static LogTail read(Iterator<WatchProcessResponse> watch, long from) {
        LogTail tail = new LogTail(from);
        while (watch.hasNext()) {
            WatchProcessResponse event = watch.next();
            switch (event.getEventCase()) {
                case OUTPUT -> tail.add(event.getOutput());
                case GAP -> tail.pieces.add(Piece.notice(OutputSink.describe(event.getGap())));
                case LOST -> tail.pieces.add(Piece.notice(OutputSink.describe(event.getLost())));
                case STATE, EVENT_NOT_SET -> { }
            }
        }
        return tail;
    }

    private void add(OutputChunk chunk) {
        ByteString data = chunk.getData();
        int start = 0;
        for (int i = 0; i < data.size(); i++) {
            if (data.byteAt(i) == '\n') {
                pieces.add(new Piece(chunk.getStream(), data.substring(start, i + 1)));
                start = i + 1;
            }
        }
        if (start < data.size()) {
            pieces.add(new Piece(chunk.getStream(), data.substring(start)));
        }
        end = Math.max(end, chunk.getOffset() + data.size());
    }

    /** The log offset just past what was read: where a follow goes on. */
    long end() {
        return end;
    }

    /** Writes the last {@code lines} lines, each piece to its stream. */
    void print(int lines, Invocation inv) throws IOException {
        List<Integer> lineStarts = new ArrayList<>();
        boolean atLineStart = true;
        for (int i = 0; i < pieces.size(); i++) {
            if (pieces.get(i).notice() != null) {
                continue; // told where it is, if that is within the tail
            }
            if (atLineStart) {
                lineStarts.add(i);
            }
            atLineStart = pieces.get(i).endsLine();
        }
        int first = lines == 0 ? pieces.size()
                : lineStarts.size() <= lines ? 0 : lineStarts.get(lineStarts.size() - lines);
        for (Piece p : pieces.subList(first, pieces.size())) {
            if (p.notice() != null) {
                OutputSink.notice(inv, p.notice());
                continue;
            }
            PrintStream to = p.stream() == OutputStream.OUTPUT_STREAM_STDERR ? inv.err() : inv.out();
            p.data().writeTo(to);
            to.flush();
            if (to.checkError()) {
                throw new OutputSink.Closed();
            }
        }
    }
}
