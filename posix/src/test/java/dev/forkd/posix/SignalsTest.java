package dev.forkd.posix;

import java.util.OptionalInt;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SignalsTest {

    @Test
    void namesAndNumbersMapToLinuxNumbers() {
        assertEquals(OptionalInt.of(15), Signals.byName("TERM"));
        assertEquals(OptionalInt.of(15), Signals.byName("SIGTERM"));
        assertEquals(OptionalInt.of(15), Signals.byName("15"));
        assertEquals(OptionalInt.of(15), Signals.byName("sigterm"));
        assertEquals(OptionalInt.of(9), Signals.byName("KILL"));
        assertEquals(OptionalInt.of(10), Signals.byName("USR1"));
        assertEquals(OptionalInt.of(12), Signals.byName("SIGUSR2"));
        assertEquals(OptionalInt.of(19), Signals.byName("STOP"));
        assertEquals(OptionalInt.of(18), Signals.byName("CONT"));
        assertEquals(OptionalInt.of(17), Signals.byName("CHLD"));
        assertEquals(OptionalInt.of(6), Signals.byName("IOT"));
    }

    @Test
    void unknownNamesAreEmpty() {
        assertEquals(OptionalInt.empty(), Signals.byName("NOPE"));
        assertEquals(OptionalInt.empty(), Signals.byName("0"));
        assertEquals(OptionalInt.empty(), Signals.byName("65"));
        assertEquals(OptionalInt.empty(), Signals.byName("99999999999999"));
        assertEquals(OptionalInt.empty(), Signals.byName(""));
        assertEquals(OptionalInt.empty(), Signals.byName("-9"));
    }

    @Test
    void numbersHaveNames() {
        assertEquals("SIGTERM", Signals.name(15));
        assertEquals("SIGKILL", Signals.name(9));
        assertEquals("SIGHUP", Signals.name(1));
        assertEquals("SIGSYS", Signals.name(31));
        assertEquals("SIGRTMIN+0", Signals.name(34));
        assertEquals("SIG99", Signals.name(99));
    }
}
