package dev.forkd.cli;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * {@code logs --since WHEN}, read as {@code docker logs --since} reads it: a time ago ({@code 10m},
 * {@code 1h30m}, {@code 90s}, as durations are written everywhere in forkd), or an ISO time, with a
 * zone or offset ({@code 2026-12-01T10:00:00Z}) or in the local zone without one.
 */
final class Since {

    private Since() {}

    static Instant parse(String text, Clock clock) {
        String s = text.strip();
        if (s.matches("\\d{4}-\\d{2}-\\d{2}.*")) { // a date: an ISO time
            try {
                return OffsetDateTime.parse(s.toUpperCase(java.util.Locale.ROOT)).toInstant();
            } catch (DateTimeParseException e) {
                // no offset: the local zone
            }
            try {
                return LocalDateTime.parse(s.toUpperCase(java.util.Locale.ROOT)).atZone(clock.getZone()).toInstant();
            } catch (DateTimeParseException e) {
                // maybe a date alone
            }
            try {
                return java.time.LocalDate.parse(s).atStartOfDay(clock.getZone()).toInstant();
            } catch (DateTimeParseException e) {
                throw bad(text);
            }
        }
        try {
            java.time.Duration ago = DurationConverter.parse(s);
            // A duration past the start of time means everything kept.
            Instant now = clock.instant();
            return ago.compareTo(java.time.Duration.between(Instant.EPOCH, now)) >= 0 ? Instant.EPOCH : now.minus(ago);
        } catch (RuntimeException e) {
            throw bad(text);
        }
    }

    private static CliFailure bad(String text) {
        return new CliFailure("--since must be a time ago (10m, 1h30m) or an ISO time (2026-12-01T10:00:00Z), got \""
                + text + "\"", ExitCodes.USAGE);
    }
}
