package dev.forkd.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** A row that holds one long, as the counters and marks are kept. */
class StoreRowTest {

    @Test
    void aLongComesBackAndARowOfAnotherSizeIsNamedInTheError() {
        StoreWrite.Put put = StoreWrite.Put.ofLong("fencing", "mark", -7_000_000_000L);
        assertEquals(-7_000_000_000L, new StoreRow(put.key(), put.value()).longValue("the fencing mark"));
        StoreException e = assertThrows(StoreException.class,
                () -> new StoreRow("mark", new byte[5]).longValue("the fencing mark"));
        assertEquals("the fencing mark is 5 bytes, not 8", e.getMessage());
    }
}
