package dev.forkd.server.process;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import java.util.List;
import java.util.Map;

/**
 * What a child's argv and environment may hold, counted as execve counts them: in bytes (UTF-8),
 * each string with its NUL. Checked before anything starts, so a too-long command is a bad request
 * naming the field, not an E2BIG from the agent that reads like a limit worth retrying.
 */
public final class ArgvLimits {

    /** Linux's MAX_ARG_STRLEN: one argument, or one NAME=value, with its NUL. */
    public static final int MAX_STRING_BYTES = 128 * 1024;
    /** argv and env together, NULs included: half of Linux's usual ARG_MAX (2 MiB), for pointers and slack. */
    public static final long MAX_TOTAL_BYTES = 1024 * 1024;

    private ArgvLimits() {}

    /**
     * Checks argv and env; INVALID_ARGUMENT names the argument ({@code argvField[i]}) or variable
     * ({@code envField[NAME]}) over its limit, or {@code envField} for the total.
     */
    public static void check(List<String> argv, Map<String, String> env, String argvField, String envField) {
        long total = 0;
        for (int i = 0; i < argv.size(); i++) {
            long n = utf8Length(argv.get(i)) + 1;
            if (n > MAX_STRING_BYTES) {
                throw new InvalidArgument(argvField + "[" + i + "]", "is " + (n - 1) + " bytes (UTF-8); an"
                        + " argument is at most " + (MAX_STRING_BYTES - 1) + " bytes (Linux's MAX_ARG_STRLEN)");
            }
            total += n;
        }
        for (var e : env.entrySet()) {
            long n = utf8Length(e.getKey()) + 1 + utf8Length(e.getValue()) + 1;
            if (n > MAX_STRING_BYTES) {
                throw new InvalidArgument(envField + "[" + e.getKey() + "]", "is " + (n - 1) + " bytes as"
                        + " NAME=value (UTF-8); a variable is at most " + (MAX_STRING_BYTES - 1)
                        + " bytes (Linux's MAX_ARG_STRLEN)");
            }
            total += n;
        }
        if (total > MAX_TOTAL_BYTES) {
            throw new InvalidArgument(envField, "argv and env together (the inherited environment included)"
                    + " are " + total + " bytes (UTF-8, with NULs); at most " + MAX_TOTAL_BYTES + " bytes");
        }
    }

    /** The UTF-8 length of {@code s}, without encoding it. */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
