package dev.forkd.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * {@code forkd map}'s progress line on stderr, for a terminal only. It lives on a line of its own:
 * every draw starts with carriage return and erase-line, and {@link #clear} erases it before
 * anything else is written, so results (on stdout, often the same terminal) are never written into
 * it and it is never written into a result.
 */
final class ProgressBar {

    private static final long REDRAW_NANOS = 200_000_000L;
    private static final String ERASE_LINE = "\r\033[K";

    private final PrintStream err;
    private final LongSupplier nanoTime;
    private final long startNanos;
    private long lastDraw;
    private boolean shown;

    ProgressBar(PrintStream err, LongSupplier nanoTime) {
        this.err = err;
        this.nanoTime = nanoTime;
        this.startNanos = nanoTime.getAsLong();
    }

    /**
     * Whether file descriptor {@code fd} of this process is a terminal. Only a real CLI process asks
     * (tests hand in their own streams); Linux names a terminal's descriptor /dev/pts/N or /dev/ttyN.
     */
    static boolean isTerminal(Invocation inv, int fd) {
        if (!inv.forwardSignals()) {
            return false;
        }
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Erases the progress line, if shown, so what comes next starts at the left margin. */
    void clear() {
        if (shown) {
            err.print(ERASE_LINE);
            err.flush();
            shown = false;
        }
    }

    /**
     * Draws the line (at most every 200 ms unless {@code force}).
     *
     * @param total the jobs to run, or a negative number while stdin is still being read
     */
    void draw(long done, long total, int failed, boolean force) {
        long now = nanoTime.getAsLong();
        if (!force && shown && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
        double rate = done / seconds;
        StringBuilder b = new StringBuilder(ERASE_LINE);
        if (total >= 0) {
            int width = 30;
            int filled = total == 0 ? width : (int) (width * Math.min(1.0, (double) done / total));
            b.append('[').append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ");
            b.append(done).append('/').append(total);
        } else {
            b.append(done).append("/?");
        }
        b.append(String.format("  %.1f/s", rate));
        if (failed > 0) {
            b.append("  ").append(failed).append(" failed");
        }
        if (total >= 0 && rate > 0 && done < total) {
            b.append("  ETA ").append(ProcessText.shortDuration(java.time.Duration.ofMillis(
                    (long) ((total - done) / rate * 1000))));
        }
        err.print(b);
        err.flush();
        shown = true;
    }

    /** The last draw stays on screen, ended by a newline, so the shell prompt starts below it. */
    void finish(long done, long total, int failed) {
        draw(done, total, failed, true);
        err.println();
        err.flush();
        shown = false;
    }
}
