package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DurationConverterTest {

    @Test
    void readsTheWaysPeopleWriteDurations() {
        assertEquals(Duration.ofMillis(500), DurationConverter.parse("500ms"));
        assertEquals(Duration.ofSeconds(10), DurationConverter.parse("10s"));
        assertEquals(Duration.ofMinutes(2), DurationConverter.parse("2m"));
        assertEquals(Duration.ofMinutes(90), DurationConverter.parse("1h30m"));
        assertEquals(Duration.ofMillis(1500), DurationConverter.parse("1.5s"));
        assertEquals(Duration.ofSeconds(7), DurationConverter.parse("7"));
        assertEquals(Duration.ofSeconds(10), DurationConverter.parse("PT10S"));
        assertEquals(Duration.ofDays(1), DurationConverter.parse("1d"));
    }

    @Test
    void aHugeDurationSaturatesAtNoLimitAndConvertsToNanoseconds() {
        // 100 years on means "no limit", on the server as here; past about 292 years toNanos() would
        // throw (kill --grace, wait --timeout and spawn --timeout all convert what they read).
        for (String huge : new String[] {"36525d", "1000000d", "200000d200000d", "P1000000D", "PT99999999999H"}) {
            Duration d = DurationConverter.parse(huge);
            assertEquals(DurationConverter.NO_LIMIT, d, huge);
            assertEquals(Duration.ofDays(36_525).toNanos(), d.toNanos(), huge);
        }
        assertEquals(Duration.ofDays(36_524), DurationConverter.parse("36524d"));
    }

    @Test
    void refusesWhatIsNotADuration() {
        for (String bad : new String[] {"", "soon", "10x", "-5s", "s", "1m-2s", "PT-1S"}) {
            assertThrows(CommandLine.TypeConversionException.class, () -> DurationConverter.parse(bad), bad);
        }
    }
}
