package dev.forkd.cli;

import com.google.protobuf.Timestamp;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** How processes read in the terminal: state names, one-line summaries, exit statuses, ages. */
final class ProcessText {

    private static final String[] SIGNALS = {
        null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
        "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    };

    private static final Pattern PLAIN_WORD = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private ProcessText() {}

    /** {@code running}, {@code exited}, {@code failed-to-start}, ...; a state added later reads as its number. */
    static String state(ProcessState state) {
        if (state == ProcessState.UNRECOGNIZED) {
            return "unknown";
        }
        return state.name().substring("PROCESS_STATE_".length()).toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Whether the process has ended for good (no restart coming). */
    static boolean ended(ProcessInfo p) {
        return switch (p.getState()) {
            case PROCESS_STATE_EXITED, PROCESS_STATE_SIGNALED, PROCESS_STATE_FAILED_TO_START,
                    PROCESS_STATE_LOST, PROCESS_STATE_FATAL -> true;
            default -> false;
        };
    }

    /** {@code SIGKILL} for 9, {@code signal 40} for one without a name here. */
    static String signalName(int number) {
        return number > 0 && number < SIGNALS.length ? "SIG" + SIGNALS[number] : "signal " + number;
    }

    /** The exit status a shell would give: the code, 128+N for signal N, 127 if it never started. */
    static int exitStatus(ProcessInfo p) {
        return switch (p.getState()) {
            case PROCESS_STATE_EXITED -> p.getExitCode();
            case PROCESS_STATE_SIGNALED -> 128 + Math.abs(p.getExitCode());
            case PROCESS_STATE_FAILED_TO_START -> ExitCodes.FAILED_TO_START;
            case PROCESS_STATE_FATAL -> p.getExitCode() > 0 ? p.getExitCode()
                    : p.getExitCode() < 0 ? 128 - p.getExitCode() : ExitCodes.ERROR;
            default -> ExitCodes.ERROR;
        };
    }

    /** {@code p-7 (web) exited with code 3}, and so on: the line {@code wait} prints. */
    static String summary(ProcessInfo p) {
        String who = p.getName().isEmpty() ? p.getId() : p.getId() + " (" + p.getName() + ")";
        return who + " " + switch (p.getState()) {
            case PROCESS_STATE_EXITED -> "exited with code " + p.getExitCode();
            case PROCESS_STATE_SIGNALED -> "was killed by " + signalName(Math.abs(p.getExitCode()))
                    + " (signal " + Math.abs(p.getExitCode()) + ")" + causeWords(p);
            case PROCESS_STATE_FAILED_TO_START -> "failed to start" + because(p);
            case PROCESS_STATE_LOST -> "was lost" + because(p);
            case PROCESS_STATE_FATAL -> "gave up after " + p.getRestartCount() + " restarts (last "
                    + exitWords(p.getExitCode()) + ")" + causeWords(p);
            case PROCESS_STATE_RUNNING -> "is running (pid " + p.getPid() + ")";
            case PROCESS_STATE_STARTING -> "is starting";
            case PROCESS_STATE_BACKOFF -> "is waiting to restart (" + p.getRestartCount() + " restarts so far)";
            default -> "is " + state(p.getState());
        };
    }

    /** The EXIT column: the code, the signal's name, or "-" while it has none. */
    static String exitColumn(ProcessInfo p) {
        return switch (p.getState()) {
            case PROCESS_STATE_EXITED -> Integer.toString(p.getExitCode());
            case PROCESS_STATE_SIGNALED -> signalName(Math.abs(p.getExitCode())) + causeTag(p);
            case PROCESS_STATE_FATAL -> exitWords(p.getExitCode()) + causeTag(p);
            default -> "-";
        };
    }

    /** {@code ": its memory limit (OOM kill)"} and the like, when a limit ended it; else empty. */
    static String causeWords(ProcessInfo p) {
        return switch (p.getExitCause()) {
            case EXIT_CAUSE_OOM_KILL -> ": the kernel's OOM killer, at its memory limit (memory_max)";
            case EXIT_CAUSE_CPU_LIMIT -> ": its CPU time limit (cpu_seconds)";
            default -> "";
        };
    }

    /** The EXIT column's note of a limit that ended it: {@code /oom-kill}, {@code /cpu-limit}. */
    private static String causeTag(ProcessInfo p) {
        return switch (p.getExitCause()) {
            case EXIT_CAUSE_OOM_KILL -> "/oom-kill";
            case EXIT_CAUSE_CPU_LIMIT -> "/cpu-limit";
            default -> "";
        };
    }

    private static String exitWords(int code) {
        return code < 0 ? signalName(-code) : "code " + code;
    }

    private static String because(ProcessInfo p) {
        return p.getFailure().isEmpty() ? "" : ": " + p.getFailure();
    }

    /** The command line, quoted so that it could be pasted into a shell. */
    static String command(List<String> argv) {
        return argv.stream()
                .map(a -> PLAIN_WORD.matcher(a).matches() ? a : "'" + a.replace("'", "'\\''") + "'")
                .collect(Collectors.joining(" "));
    }

    /**
     * A duration exactly, in the form the CLI reads it: {@code 100ms}, {@code 2s}, {@code 1.5s},
     * {@code 1m30s}, {@code 2h}. For echoing what a user gave (a timeout), where rounding would lie.
     */
    static String exactDuration(Duration d) {
        if (d.isNegative()) {
            d = Duration.ZERO;
        }
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            return new java.math.BigDecimal(d.toNanos()).movePointLeft(6).stripTrailingZeros().toPlainString() + "ms";
        }
        StringBuilder out = new StringBuilder();
        long h = d.toHours();
        int m = d.toMinutesPart();
        if (h > 0) {
            out.append(h).append('h');
        }
        if (m > 0) {
            out.append(m).append('m');
        }
        if (d.toSecondsPart() > 0 || d.toNanosPart() > 0) {
            out.append(new java.math.BigDecimal(d.toSecondsPart()).add(new java.math.BigDecimal(d.toNanosPart()).movePointLeft(9))
                    .stripTrailingZeros().toPlainString()).append('s');
        }
        return out.toString();
    }

    /** A short human duration: {@code 850ms}, {@code 12s}, {@code 3m05s}, {@code 2h10m}, {@code 4d3h}. */
    static String shortDuration(Duration d) {
        if (d.isNegative()) {
            d = Duration.ZERO;
        }
        long s = d.toSeconds();
        if (s < 1) {
            return d.toMillis() + "ms";
        }
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        if (s < 86_400) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dd%dh", s / 86_400, (s % 86_400) / 3600);
    }

    static boolean isSet(Timestamp t) {
        return t.getSeconds() != 0 || t.getNanos() != 0;
    }

    static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    /** How long it has run (or ran); "-" before it started. */
    static String runtime(ProcessInfo p, Instant now) {
        if (!isSet(p.getStartedAt())) {
            return "-";
        }
        Instant end = isSet(p.getEndedAt()) && !p.getIsAlive() ? instant(p.getEndedAt()) : now;
        return shortDuration(Duration.between(instant(p.getStartedAt()), end));
    }

    /** How long ago the record was made. */
    static String age(ProcessInfo p, Instant now) {
        return isSet(p.getCreatedAt()) ? shortDuration(Duration.between(instant(p.getCreatedAt()), now)) : "-";
    }
}
