package dev.forkd.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Reads durations the way people write them: {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h30m}, {@code 1.5s}, {@code 10} (seconds), or ISO {@code PT10S}. */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    /**
     * From this length on (100 years, as the server counts) a duration means "no limit"; every
     * duration read is saturated here, so each one converts to nanoseconds and adds to a clock
     * reading without overflowing ({@link Duration#toNanos()} fails past about 292 years).
     */
    static final Duration NO_LIMIT = Duration.ofDays(36_525);

    private static final BigDecimal MAX_NANOS = BigDecimal.valueOf(NO_LIMIT.toNanos());
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|ms|s|m|h|d)");
    private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:\\.\\d+)?(?:ns|us|ms|s|m|h|d))+");

    @Override
    public Duration convert(String value) {
        return parse(value);
    }

    /** {@code value} as a duration, saturated at {@link #NO_LIMIT}. */
    public static Duration parse(String value) {
        Duration d = unbounded(value);
        return d.compareTo(NO_LIMIT) >= 0 ? NO_LIMIT : d;
    }

    private static Duration unbounded(String value) {
        String s = value.strip().toLowerCase(Locale.ROOT);
        if (s.startsWith("pt") || s.startsWith("p")) {
            try {
                return nonNegative(Duration.parse(s.toUpperCase(Locale.ROOT)), value);
            } catch (DateTimeParseException e) {
                throw bad(value);
            }
        }
        if (s.matches("\\d+(?:\\.\\d+)?")) {
            return nanos(new BigDecimal(s), 1_000_000_000L);
        }
        if (!WHOLE.matcher(s).matches()) {
            throw bad(value);
        }
        Duration total = Duration.ZERO;
        Matcher m = PART.matcher(s);
        while (m.find()) {
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> 86_400_000_000_000L;
            };
            total = total.plus(nanos(new BigDecimal(m.group(1)), unit));
        }
        return total;
    }

    private static Duration nanos(BigDecimal amount, long unitNanos) {
        BigDecimal n = amount.multiply(BigDecimal.valueOf(unitNanos));
        // Saturated, not wrapped: a huge duration stays huge ("no limit").
        return Duration.ofNanos(n.compareTo(MAX_NANOS) >= 0 ? MAX_NANOS.longValue() : n.longValue());
    }

    private static Duration nonNegative(Duration d, String value) {
        if (d.isNegative()) {
            throw bad(value);
        }
        return d;
    }

    private static CommandLine.TypeConversionException bad(String value) {
        return new CommandLine.TypeConversionException(
                "'" + value + "' is not a duration (try 500ms, 10s, 2m, 1h30m)");
    }
}
