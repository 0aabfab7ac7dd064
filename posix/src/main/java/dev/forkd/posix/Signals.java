package dev.forkd.posix;

import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/** Signal names and numbers as on Linux x86_64. */
public final class Signals {

    private static final Map<String, Integer> BY_NAME = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4),
            Map.entry("TRAP", 5), Map.entry("ABRT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8),
            Map.entry("KILL", 9), Map.entry("USR1", 10), Map.entry("SEGV", 11), Map.entry("USR2", 12),
            Map.entry("PIPE", 13), Map.entry("ALRM", 14), Map.entry("TERM", 15), Map.entry("STKFLT", 16),
            Map.entry("CHLD", 17), Map.entry("CONT", 18), Map.entry("STOP", 19), Map.entry("TSTP", 20),
            Map.entry("TTIN", 21), Map.entry("TTOU", 22), Map.entry("URG", 23), Map.entry("XCPU", 24),
            Map.entry("XFSZ", 25), Map.entry("VTALRM", 26), Map.entry("PROF", 27), Map.entry("WINCH", 28),
            Map.entry("IO", 29), Map.entry("PWR", 30), Map.entry("SYS", 31));

    /** Index = signal number; the canonical name of each (IOT, POLL, CLD are aliases, not listed). */
    private static final String[] NAMES = namesByNumber();

    private static final int SIGRTMAX = 64;

    private Signals() {
    }

    /** "TERM", "SIGTERM", "sigterm" and "15" all give 15; empty for anything not a Linux signal. */
    public static OptionalInt byName(String nameOrNumber) {
        String s = nameOrNumber.strip().toUpperCase(Locale.ROOT);
        if (!s.isEmpty() && s.chars().allMatch(Character::isDigit)) {
            try {
                int n = Integer.parseInt(s);
                return n >= 1 && n <= SIGRTMAX ? OptionalInt.of(n) : OptionalInt.empty();
            } catch (NumberFormatException tooLong) {
                return OptionalInt.empty();
            }
        }
        if (s.startsWith("SIG")) {
            s = s.substring(3);
        }
        Integer n = switch (s) {
            case "IOT" -> 6;
            case "POLL" -> 29;
            case "CLD" -> 17;
            default -> BY_NAME.get(s);
        };
        return n == null ? OptionalInt.empty() : OptionalInt.of(n);
    }

    /** "SIGTERM" for 15; "SIGRTMIN+k" for real-time signals; "SIG<n>" for anything else. */
    public static String name(int signal) {
        if (signal >= 1 && signal < NAMES.length) {
            return "SIG" + NAMES[signal];
        }
        if (signal >= 34 && signal <= SIGRTMAX) {
            return "SIGRTMIN+" + (signal - 34);
        }
        return "SIG" + signal;
    }

    private static String[] namesByNumber() {
        String[] names = new String[32];
        BY_NAME.forEach((name, number) -> names[number] = name);
        return names;
    }
}
