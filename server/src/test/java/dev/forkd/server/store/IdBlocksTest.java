package dev.forkd.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Id numbers that no later supervisor on the same store gives again. */
@Timeout(60)
class IdBlocksTest {

    @TempDir
    Path dir;

    @Test
    void theNextSupervisorStartsAfterEveryNumberTheLastOneCouldHaveGiven() {
        Path db = dir.resolve("forkd.db");
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            IdBlocks ids = new IdBlocks(store, "queue");
            assertEquals(1, ids.next());
            assertEquals(2, ids.next());
            IdBlocks pipes = new IdBlocks(store, "pipe"); // each kind counts apart
            assertEquals(1, pipes.next());
        }
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            IdBlocks ids = new IdBlocks(store, "queue");
            assertEquals(IdBlocks.BLOCK + 1, ids.next());
            ids.taken(5 * IdBlocks.BLOCK); // a restored resource had this one
            assertEquals(5 * IdBlocks.BLOCK + 1, ids.next());
        }
        try (SqliteStateStore store = SqliteStateStore.open(db)) {
            assertEquals(6 * IdBlocks.BLOCK + 1, new IdBlocks(store, "queue").next());
            assertEquals(IdBlocks.BLOCK + 1, new IdBlocks(store, "pipe").next());
        }
    }

    @Test
    void aNumberGivenBackIsTheNextOneAndWithoutAStoreNumbersCountFromOne() {
        IdBlocks ids = new IdBlocks(StateStore.none(), "queue");
        assertEquals(1, ids.next());
        long n = ids.next();
        ids.giveBack(n);
        assertEquals(n, ids.next());
        ids.giveBack(1); // not the last one: nothing changes
        assertEquals(3, ids.next());
    }

    @Test
    void aReservationTheStoreRefusesTakesNoNumber() {
        Path db = dir.resolve("forkd.db");
        SqliteStateStore store = SqliteStateStore.open(db);
        IdBlocks ids = new IdBlocks(store, "queue");
        assertEquals(1, ids.next());
        store.close();
        assertThrows(StoreException.class, () -> {
            for (int i = 0; i < IdBlocks.BLOCK; i++) {
                ids.next();
            }
        });
    }
}
