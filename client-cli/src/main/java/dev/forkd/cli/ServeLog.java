package dev.forkd.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Logger;
import sun.misc.Signal;

/**
 * The log of {@code forkd serve}, and what SIGHUP does to it. Users of supervisord and nginx send HUP
 * to reload and logrotate sends it after moving a log away: it must never stop the server. On HUP the
 * server reopens its log file (so a rotated log is written anew at its path) and logs that it did;
 * there is no configuration to reload yet.
 *
 * <p>The log file is {@code --log-file}, else the regular file stderr was sent to when the server
 * started (autostart appends it to {@code forkd.log}), else none: then HUP only logs. Reopening moves
 * Java's stdout, stderr and the logging handlers to the new file; the agents and anything the JVM
 * itself writes keep the descriptors they inherited.
 */
final class ServeLog {

    private static final Logger LOG = Logger.getLogger(ServeLog.class.getName());

    private final Optional<Path> file;
    /** Run on SIGHUP after the reopen; null: none. */
    private volatile Runnable alsoOnHangup;
    private PrintStream current;

    private ServeLog(Optional<Path> file) {
        this.file = file;
    }

    /**
     * The log at {@code explicit}, or at the file stderr goes to. With an explicit file, output moves
     * there at once.
     */
    static ServeLog open(Optional<Path> explicit) throws IOException {
        ServeLog log = new ServeLog(explicit.or(ServeLog::stderrFile));
        if (explicit.isPresent()) {
            log.reopen();
        }
        return log;
    }

    Optional<Path> file() {
        return file;
    }

    /** Handles SIGHUP from now on: reopen, never stop. */
    void handleHangup() {
        try {
            Signal.handle(new Signal("HUP"), s -> hangup());
        } catch (IllegalArgumentException e) {
            LOG.warning("cannot handle SIGHUP (" + e.getMessage() + "); a HUP may stop the server");
        }
    }

    /** What SIGHUP does besides reopening the log (apply the config file again), from now on. */
    void onHangup(Runnable action) {
        alsoOnHangup = action;
    }

    private void hangup() {
        try {
            reopen();
            Runnable also = alsoOnHangup;
            LOG.info(() -> "SIGHUP: " + file.map(f -> "reopened the log " + f).orElse("no log file to reopen")
                    + (also == null ? "; nothing else to reload" : "; reloading the config file"));
            if (also != null) {
                also.run();
            }
        } catch (IOException | RuntimeException e) {
            LOG.warning("SIGHUP: cannot reopen the log " + file.orElseThrow() + ": " + e.getMessage()
                    + "; logging on where it was");
        }
    }

    /** Points stdout, stderr and the console log handlers at a fresh open of the log file. */
    synchronized void reopen() throws IOException {
        if (file.isEmpty()) {
            return;
        }
        PrintStream next = new PrintStream(new FileOutputStream(file.get().toFile(), true), true, StandardCharsets.UTF_8);
        PrintStream previous = current;
        System.setOut(next);
        System.setErr(next);
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            if (h instanceof ConsoleHandler) {
                root.removeHandler(h);
                ConsoleHandler fresh = new ConsoleHandler(); // binds the new System.err
                fresh.setLevel(h.getLevel());
                fresh.setFormatter(h.getFormatter());
                root.addHandler(fresh);
            }
        }
        current = next;
        if (previous != null) {
            previous.close();
        }
    }

    /** The regular file this process's stderr was opened on, if it is one. */
    private static Optional<Path> stderrFile() {
        try {
            Path target = Files.readSymbolicLink(Path.of("/proc/self/fd/2"));
            return target.isAbsolute() && Files.isRegularFile(target) ? Optional.of(target) : Optional.empty();
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }
}
