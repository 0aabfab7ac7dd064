package dev.forkd.cli;

import dev.forkd.v1.TaskResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * GNU parallel's {@code --joblog}: a header, then one tab-separated line per finished job (Seq, Host,
 * Starttime, JobRuntime, Send, Receive, Exitval, Signal, Command). With {@code --resume-failed} the
 * file is appended to, and a job whose latest line says it succeeded is not run again.
 */
final class JobLog implements AutoCloseable {

    static final String HEADER = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand";

    private final PrintStream out;

    private JobLog(PrintStream out) {
        this.out = out;
    }

    /** A new log (replacing what {@code file} held), or the same log appended to when {@code resume}. */
    static JobLog open(Path file, boolean resume) throws IOException {
        boolean fresh = !resume || !Files.exists(file) || Files.size(file) == 0;
        var options = resume ? new StandardOpenOption[] {StandardOpenOption.CREATE, StandardOpenOption.APPEND,
            StandardOpenOption.WRITE} : new StandardOpenOption[] {StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE};
        JobLog log = new JobLog(new PrintStream(Files.newOutputStream(file, options), false, StandardCharsets.UTF_8));
        if (fresh) {
            log.out.println(HEADER);
        }
        return log;
    }

    /**
     * The jobs {@code file} says succeeded: those whose latest line has Exitval 0 and Signal 0. A
     * missing file means none did (a first run with --resume-failed runs everything, as GNU
     * parallel's). Lines that are not a job's (the header, a torn last line) are skipped.
     */
    static Set<Long> succeeded(Path file) throws IOException {
        Map<Long, Boolean> latest = new HashMap<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                String[] f = line.split("\t", 9);
                if (f.length < 9) {
                    continue;
                }
                try {
                    latest.put(Long.parseLong(f[0].strip()),
                            Long.parseLong(f[6].strip()) == 0 && Long.parseLong(f[7].strip()) == 0);
                } catch (NumberFormatException e) {
                    // the header, or a line cut short when the last run was killed
                }
            }
        } catch (NoSuchFileException e) {
            return Set.of();
        }
        return latest.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).collect(Collectors.toSet());
    }

    void write(MapJob job, TaskResult r, String command) {
        long code = 0;
        long signal = 0;
        if (r.hasFailure()) {
            int c = r.getFailure().getExitCode();
            if (c < 0) {
                code = -1;
                signal = -c;
            } else {
                code = c == 0 ? -1 : c; // failed without an exit code (start, timeout, lost worker)
            }
        }
        String started = r.hasStartedAt() ? String.format("%d.%03d", r.getStartedAt().getSeconds(),
                r.getStartedAt().getNanos() / 1_000_000) : "0";
        String runtime = String.format("%.3f", r.hasRuntime()
                ? r.getRuntime().getSeconds() + r.getRuntime().getNanos() / 1e9 : 0.0);
        long received = r.hasFailure() ? r.getFailure().getStdout().size() : r.getOutput().size();
        String host = r.getAgentId().isEmpty() ? ":" : r.getAgentId();
        out.println(job.seq() + "\t" + host + "\t" + started + "\t" + runtime + "\t" + job.sendBytes() + "\t" + received
                + "\t" + code + "\t" + signal + "\t" + command.replace('\t', ' ').replace('\n', ' '));
    }

    /** Each line reaches the file as its job ends, so a killed run still leaves what it did. */
    void flush() {
        out.flush();
    }

    @Override
    public void close() {
        out.close();
    }
}
