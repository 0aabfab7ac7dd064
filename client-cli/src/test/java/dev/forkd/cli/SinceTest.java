package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** {@code logs --since}: a time ago, or an ISO time, as {@code docker logs --since} reads them. */
class SinceTest {

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneId.of("Europe/Paris"));

    @Test
    void aDurationIsThatLongAgo() {
        assertEquals(NOW.minusSeconds(600), Since.parse("10m", CLOCK));
        assertEquals(NOW.minusSeconds(5400), Since.parse("1h30m", CLOCK));
        assertEquals(NOW.minusMillis(1500), Since.parse("1.5s", CLOCK));
        assertEquals(NOW.minusSeconds(90), Since.parse("PT90S", CLOCK));
        assertEquals(Instant.EPOCH, Since.parse("1000000d", CLOCK), "longer ago than the epoch: everything");
    }

    @Test
    void anIsoTimeWithAZoneOrInTheLocalOne() {
        assertEquals(Instant.parse("2026-12-01T10:00:00Z"), Since.parse("2026-12-01T10:00:00Z", CLOCK));
        assertEquals(Instant.parse("2026-12-01T10:00:00Z"), Since.parse("2026-12-01T11:00:00+01:00", CLOCK));
        assertEquals(Instant.parse("2026-12-01T10:00:00Z"), Since.parse("2026-12-01T11:00:00", CLOCK), "Paris time");
        assertEquals(Instant.parse("2026-11-30T23:00:00Z"), Since.parse("2026-12-01", CLOCK));
    }

    @Test
    void anythingElseIsAUsageError() {
        for (String bad : new String[] {"yesterday", "", "-5m", "2026-13-01T00:00:00Z", "10 minutes"}) {
            CliFailure f = assertThrows(CliFailure.class, () -> Since.parse(bad, CLOCK), bad);
            assertEquals(ExitCodes.USAGE, f.exitCode());
        }
    }
}
