package dev.forkd.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {

    @TempDir
    Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void whatWasCommittedIsThereAfterReopening() throws Exception {
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                writes.add(store.put("queue-item/q-1", String.format("%016d", i), b("item " + i)));
            }
            writes.add(store.put("value", "counter", b("41")));
            writes.add(store.put("value", "counter", b("42")));
            writes.add(store.put("value", "gone", b("x")));
            writes.add(store.delete("value", "gone"));
            writes.add(store.put("queue-item/q-2", "0", b("y")));
            writes.add(store.deleteKind("queue-item/q-2"));
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            List<StoreRow> items = store.load("queue-item/q-1");
            assertEquals(1000, items.size());
            assertEquals("item 0", new String(items.get(0).value(), StandardCharsets.UTF_8));
            assertEquals("item 999", new String(items.get(999).value(), StandardCharsets.UTF_8));
            List<StoreRow> values = store.load("value");
            assertEquals(1, values.size());
            assertArrayEquals(b("42"), values.get(0).value());
            assertEquals(List.of("queue-item/q-1"), store.kinds("queue-item/"));
        }
    }

    @Test
    void stagedWritesCommitWhenTheCallerAsksAndKeepTheirOrderWithOtherWrites() throws Exception {
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            CompletableFuture<Void> a = store.stage(List.of(new StoreWrite.Put("value", "k", b("staged"))));
            CompletableFuture<Void> gone = store.stage(List.of(new StoreWrite.Put("value", "gone", b("x"))));
            CompletableFuture<Void> b = store.write(List.of(new StoreWrite.Put("value", "k", b("written")),
                    new StoreWrite.Delete("value", "gone")));
            CompletableFuture<Void> c = store.stage(List.of(new StoreWrite.Put("value", "k", b("staged again"))));
            store.commitStaged();
            CompletableFuture.allOf(a, gone, b, c).get(30, TimeUnit.SECONDS);
            List<StoreRow> values = store.load("value");
            assertEquals(1, values.size());
            assertArrayEquals(b("staged again"), values.get(0).value(), "applied in the order they were made");
        }
    }

    @Test
    void aStagedWriteNobodyCommitsIsCommittedAnyway() throws Exception {
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            store.stage(List.of(new StoreWrite.Put("value", "k", b("v")))).get(30, TimeUnit.SECONDS);
        }
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            assertArrayEquals(b("v"), store.load("value").get(0).value());
        }
    }

    @Test
    void theWriterCheckpointsTheWalIntoTheFileWhileCommitsGoOn() throws Exception {
        Path file = dir.resolve(StateDirectory.STORE_FILE);
        byte[] big = new byte[256 * 1024];
        int rows = (int) (PendingWrites.CHECKPOINT_BYTES / big.length) * 2;
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            long before = java.nio.file.Files.size(file);
            for (int i = 0; i < rows; i++) {
                big[0] = (byte) i;
                store.stage(List.of(new StoreWrite.Put("blob", String.format("%04d", i), big.clone())));
                store.commitStaged();
            }
            store.committedSoFar().get(30, TimeUnit.SECONDS);
            // Commits never checkpoint (that would stall the caller's thread): the writer does, so the
            // database file itself grows while the store is open.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (java.nio.file.Files.size(file) < before + PendingWrites.CHECKPOINT_BYTES) {
                assertTrue(System.nanoTime() < deadline, "no checkpoint: the file is still "
                        + java.nio.file.Files.size(file) + " bytes");
                Thread.sleep(10);
            }
        }
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            List<StoreRow> blobs = store.load("blob");
            assertEquals(rows, blobs.size());
            assertEquals((byte) (rows - 1), blobs.get(rows - 1).value()[0]);
        }
    }

    @Test
    void freshDiscardsAndSaysWhat() throws Exception {
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(false, m -> { })) {
            store.put("queue-item/q-1", "1", b("a")).get(30, TimeUnit.SECONDS);
            store.put("queue-item/q-2", "1", b("b")).get(30, TimeUnit.SECONDS);
            store.put("value", "v", b("c")).get(30, TimeUnit.SECONDS);
        }
        List<String> said = new ArrayList<>();
        try (StateDirectory d = StateDirectory.take(dir); SqliteStateStore store = d.openStore(true, said::add)) {
            assertEquals(List.of(), store.load("value"));
            assertEquals(List.of(), store.kinds(""));
        }
        assertEquals(1, said.size(), said::toString);
        assertTrue(said.get(0).contains("2 queue-item, 1 value"), said::toString);
    }

    @Test
    void aSecondServerCannotTakeTheSameDirectory() throws Exception {
        try (StateDirectory first = StateDirectory.take(dir)) {
            IOException e = assertThrows(IOException.class, () -> StateDirectory.take(dir));
            assertTrue(e.getMessage().contains("in use by another forkd server")
                    && e.getMessage().contains("--state-dir"), e.getMessage());
        }
        StateDirectory.take(dir).close(); // released with the first
    }

    @Test
    void writesAfterCloseFailAndChangeNothing() throws Exception {
        SqliteStateStore store;
        try (StateDirectory d = StateDirectory.take(dir)) {
            store = d.openStore(false, m -> { });
            store.close();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> store.put("value", "v", b("x")).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof StoreException, e.toString());
        }
    }

    @Test
    void theDefaultDirectoryFollowsXdgStateHome() {
        assertEquals(Path.of("/s/forkd"), StateDirectory.defaultPath(java.util.Map.of("XDG_STATE_HOME", "/s"),
                Path.of("/h")));
        assertEquals(Path.of("/h/.local/state/forkd"), StateDirectory.defaultPath(java.util.Map.of(), Path.of("/h")));
        assertEquals(Path.of("/h/.local/state/forkd"), StateDirectory.defaultPath(
                java.util.Map.of("XDG_STATE_HOME", "relative"), Path.of("/h")), "a relative XDG path is ignored");
    }

    @Test
    void aStateDirectoryOpenToOthersIsRefusedByItsName() throws Exception {
        Path open = dir.resolve("open");
        java.nio.file.Files.createDirectory(open);
        java.nio.file.Files.setPosixFilePermissions(open,
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        IOException e = assertThrows(IOException.class, () -> StateDirectory.take(open));
        assertTrue(e.getMessage().startsWith("the state directory " + open + " has mode"), e.getMessage());
    }
}
