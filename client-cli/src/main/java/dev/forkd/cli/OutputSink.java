package dev.forkd.cli;

import dev.forkd.v1.OutputChunk;
import dev.forkd.v1.OutputGap;
import dev.forkd.v1.OutputLost;
import dev.forkd.v1.OutputStream;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.WatchProcessResponse;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Iterator;
import java.util.Optional;

/**
 * Writes a watched process's output where it belongs: its stdout to ours, its stderr to ours,
 * each chunk flushed so the two keep their order in a terminal. A gap (output dropped by the
 * server's cap before it was read) and lost output (captured by a server that stopped before
 * keeping it) are told on stderr, each as one line.
 */
final class OutputSink {

    private final Invocation inv;

    OutputSink(Invocation inv) {
        this.inv = inv;
    }

    /** Drains a watch; returns the last state it reported. */
    Optional<ProcessInfo> drain(Iterator<WatchProcessResponse> watch) throws IOException {
        Optional<ProcessInfo> last = Optional.empty();
        while (watch.hasNext()) {
            WatchProcessResponse event = watch.next();
            switch (event.getEventCase()) {
                case OUTPUT -> write(event.getOutput());
                case GAP -> gap(event.getGap());
                case LOST -> lost(event.getLost());
                case STATE -> last = Optional.of(event.getState());
                case EVENT_NOT_SET -> { } // an event kind added later: nothing to show
            }
        }
        return last;
    }

    private void write(OutputChunk chunk) throws IOException {
        PrintStream to = chunk.getStream() == OutputStream.OUTPUT_STREAM_STDERR ? inv.err() : inv.out();
        chunk.getData().writeTo(to);
        to.flush();
        if (to.checkError()) {
            // PrintStream swallows EPIPE: without this, `forkd run -- yes | head -1` would never end.
            throw new Closed();
        }
    }

    /** Our stdout or stderr was closed by its reader (a broken pipe): nobody reads the output any more. */
    static final class Closed extends IOException {
        Closed() {
            super("output closed", null);
        }
    }

    private void lost(OutputLost lost) {
        notice(inv, describe(lost));
    }

    private void gap(OutputGap gap) {
        notice(inv, describe(gap));
    }

    /** A one-line notice on stderr, after what stdout has so far. */
    static void notice(Invocation inv, String line) {
        inv.out().flush();
        inv.err().println(line);
        inv.err().flush();
    }

    static String describe(OutputLost lost) {
        return "forkd: " + (lost.getResumedAt() - lost.getOffset()) + " bytes of output lost (offsets "
                + lost.getOffset() + "-" + lost.getResumedAt() + ") when the server stopped";
    }

    static String describe(OutputGap gap) {
        return "forkd: output bytes " + gap.getRequested() + " to " + gap.getResumedAt()
                + " were dropped by the server's output cap before they were read";
    }
}
