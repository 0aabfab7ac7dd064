package dev.forkd.cli;

import dev.forkd.v1.PoolInfo;
import dev.forkd.v1.TaskFailureKind;
import dev.forkd.v1.TaskResult;
import dev.forkd.v1.WorkerKind;
import dev.forkd.v1.WorkerSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Prints {@code forkd map}'s results as GNU parallel does with {@code --group}: each job's stdout
 * whole on stdout, then its stderr whole on stderr, whether it succeeded or failed, then for a
 * failure one line saying why. Also writes the joblog, the results directory and the progress
 * line. Results arrive on the call's thread; the feeder thread only registers jobs.
 */
final class MapPrinter {

    /** Characters of a stderr tail shown on a failure line when the job's stderr was not printed. */
    private static final int TAIL_CHARS = 300;

    /** What the printer does besides printing results. */
    record Options(boolean tag, Optional<JobLog> joblog, Optional<ResultsDir> results, Optional<ProgressBar> bar,
            boolean stdoutIsTerminal) {}

    private final Invocation inv;
    private final Options options;
    /** Jobs sent and not yet answered, by stream index: the stream knows them by index only. */
    private final ConcurrentHashMap<Long, MapJob> inFlight = new ConcurrentHashMap<>();
    private volatile long total;
    private long done;
    private int failed;
    /** True when stdout (a terminal) ended mid-line: the progress line must not erase that line. */
    private boolean stdoutMidLine;
    private volatile WorkerSpec worker = WorkerSpec.getDefaultInstance();

    /** @param total the jobs to run, or -1 while unknown (stdin) */
    MapPrinter(Invocation inv, Options options, long total) {
        this.inv = inv;
        this.options = options;
        this.total = total;
    }

    int failed() {
        return failed;
    }

    void pool(PoolInfo info) {
        worker = info.getWorker();
    }

    void sent(long index, MapJob job) {
        inFlight.put(index, job);
    }

    void inputEnded(long count) {
        total = count;
    }

    synchronized void result(TaskResult r) {
        MapJob sent = inFlight.remove(r.getIndex());
        // Never missing: a result answers a job this stream sent; the server's numbering otherwise.
        MapJob job = sent != null ? sent : MapJob.ofItem(r.getIndex() + 1, new byte[0]);
        done++;
        byte[] stdout = r.hasFailure() ? r.getFailure().getStdout().toByteArray() : r.getOutput().toByteArray();
        if (!r.hasFailure() && persistent() && (stdout.length == 0 || stdout[stdout.length - 1] != '\n')) {
            stdout = withNewline(stdout); // a persistent worker's result is a line without its newline
        }
        byte[] stderr = r.getStderr().toByteArray();
        options.bar().ifPresent(ProgressBar::clear);
        byte[] shown = tagged(job, stdout);
        inv.out().write(shown, 0, shown.length);
        inv.out().flush();
        if (shown.length > 0) {
            stdoutMidLine = shown[shown.length - 1] != '\n';
        }
        byte[] errShown = tagged(job, stderr);
        inv.err().write(errShown, 0, errShown.length);
        if (r.hasFailure()) {
            failed++;
            inv.err().println("forkd: job " + job.seq() + " (" + quote(job.text()) + ") failed: " + cause(r, stderr.length > 0));
        }
        inv.err().flush();
        String command = commandFor(job);
        options.joblog().ifPresent(log -> {
            log.write(job, r, command);
            log.flush();
        });
        if (options.results().isPresent()) {
            try {
                options.results().get().write(job, stdout, stderr);
            } catch (IOException e) {
                inv.err().println("forkd: cannot write the results of job " + job.seq() + ": " + e.getMessage());
            }
        }
    }

    /** The stream's last message: every started task has answered, so the items left never ran. */
    synchronized void halted() {
        options.bar().ifPresent(ProgressBar::clear);
        inv.err().println("forkd: halted after a failed task; " + inFlight.size() + " job(s) taken were not run"
                + (total < 0 ? " (nor the rest of stdin)" : ""));
        inv.err().flush();
    }

    /** After each message: the progress line, redrawn on its own line. */
    synchronized void drawProgress() {
        options.bar().ifPresent(bar -> {
            leaveStdoutLine();
            bar.draw(done, total, failed, false);
        });
    }

    synchronized void finish() {
        options.bar().ifPresent(bar -> {
            if (done > 0) {
                leaveStdoutLine();
                bar.finish(done, total, failed);
            }
        });
        options.joblog().ifPresent(JobLog::close);
        inv.out().flush();
        inv.err().flush();
    }

    /** A result that did not end its line on the terminal keeps it: the bar goes on the next. */
    private void leaveStdoutLine() {
        if (stdoutMidLine && options.stdoutIsTerminal()) {
            inv.err().print('\n');
            stdoutMidLine = false;
        }
    }

    private boolean persistent() {
        return worker.getKind() == WorkerKind.WORKER_KIND_PERSISTENT;
    }

    /** With --tag, each line starts with the job's arguments and a tab, as GNU parallel's --tag. */
    private byte[] tagged(MapJob job, byte[] data) {
        if (!options.tag() || data.length == 0) {
            return data;
        }
        byte[] tag = (job.text() + "\t").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream b = new ByteArrayOutputStream(data.length + tag.length * 4);
        boolean lineStart = true;
        for (byte c : data) {
            if (lineStart) {
                b.writeBytes(tag);
            }
            b.write(c);
            lineStart = c == '\n';
        }
        return b.toByteArray();
    }

    private static byte[] withNewline(byte[] line) {
        byte[] out = java.util.Arrays.copyOf(line, line.length + 1);
        out[line.length] = '\n';
        return out;
    }

    private static String cause(TaskResult r, boolean stderrShown) {
        var f = r.getFailure();
        String how = switch (f.getKind()) {
            case TASK_FAILURE_KIND_EXIT -> f.getExitCode() < 0 ? "killed by signal " + -f.getExitCode()
                    : "exit code " + f.getExitCode();
            default -> f.getMessage().isEmpty() ? f.getKind().name() : f.getMessage();
        };
        if (r.getAttempts() > 1 && f.getKind() == TaskFailureKind.TASK_FAILURE_KIND_EXIT) {
            how += " (after " + r.getAttempts() + " attempts)"; // the server's other messages count them
        }
        // A job's whole stderr was printed just above; a persistent worker's tail was not.
        String tail = stderrShown ? "" : tail(f.getStderrTail().toStringUtf8());
        return tail.isEmpty() ? how : how + ": " + tail;
    }

    /** The command line the job ran, as GNU parallel logs it (approximately: placeholders filled in). */
    private String commandFor(MapJob job) {
        if (persistent()) {
            return job.text();
        }
        List<String> argv = worker.getArgvList();
        if (worker.getStdinItem()) {
            return ProcessText.command(argv);
        }
        List<String> values = job.values();
        List<String> filled = new ArrayList<>(argv.size());
        for (String a : argv) {
            String s = a.replace("{#}", Long.toString(job.seq())).replace("{}", job.text());
            for (int i = values.size(); i >= 1; i--) { // {10} before {1}
                s = s.replace("{" + i + "}", values.get(i - 1));
            }
            s = s.replace("{" + (values.size() + 1) + "}", Long.toString(job.seq())); // a numbered command's {#}
            filled.add(s);
        }
        return ProcessText.command(filled);
    }

    static String quote(String item) {
        String s = item.length() > 80 ? item.substring(0, 77) + "..." : item;
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    /** The last lines of a stderr tail on one line, at most {@value #TAIL_CHARS} characters. */
    static String tail(String stderr) {
        String s = stderr.strip().replace("\r", "");
        if (s.isEmpty()) {
            return "";
        }
        String[] lines = s.split("\n");
        StringBuilder b = new StringBuilder();
        for (int i = lines.length - 1; i >= 0 && b.length() < TAIL_CHARS; i--) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            b.insert(0, b.isEmpty() ? line : line + " | ");
        }
        return b.length() > TAIL_CHARS ? "..." + b.substring(b.length() - TAIL_CHARS) : b.toString();
    }
}
