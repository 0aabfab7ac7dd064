package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.memory.MemoryBudget;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output files on a real directory: the cap, the streams, holes, a torn record, removal. */
class OutputFilesTest {

    @TempDir
    Path state;

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(List<OutputSegments.Stored> chunks) {
        StringBuilder b = new StringBuilder();
        for (OutputSegments.Stored s : chunks) {
            b.append(StandardCharsets.UTF_8.decode(s.data().duplicate()));
        }
        return b.toString();
    }

    @Test
    void chunksComeBackWithTheirStreamOffsetAndTime() throws Exception {
        MemoryBudget memory = new MemoryBudget(1 << 20);
        OutputFiles files = OutputFiles.in(state, memory, () -> 1234);
        files.append("p-1", 1024, OutputLog.Stream.STDOUT, 0, bytes("out\n"));
        files.append("p-1", 1024, OutputLog.Stream.STDERR, 4, bytes("err\n"));
        files.flushed().get(10, TimeUnit.SECONDS);
        assertEquals(0, memory.used(), "what was written is given back to the budget");
        List<OutputSegments.Stored> back = files.load("p-1");
        assertEquals(2, back.size());
        assertEquals(OutputLog.Stream.STDOUT, back.get(0).stream());
        assertEquals(OutputLog.Stream.STDERR, back.get(1).stream());
        assertEquals(4, back.get(1).offset());
        assertEquals(1234, back.get(1).timeMillis());
        assertEquals("out\nerr\n", text(back));
        files.close();
    }

    @Test
    void theFilesHoldAtMostTheCapAndKeepTheNewest() throws Exception {
        OutputFiles files = OutputFiles.in(state, MemoryBudget.unlimited(), () -> 0);
        long offset = 0;
        for (int i = 0; i < 100; i++) {
            String line = String.format("%09d\n", i); // 10 bytes
            files.append("p-2", 100, OutputLog.Stream.STDOUT, offset, bytes(line));
            offset += 10;
        }
        files.close();
        Path dir = state.resolve("output");
        long data = Files.size(dir.resolve("p-2.log")) + Files.size(dir.resolve("p-2.old.log"));
        assertTrue(data <= 100 + 10 * OutputSegments.HEADER, "files hold " + data);
        List<OutputSegments.Stored> back = new OutputSegments(dir, "p-2", 100).load();
        assertTrue(text(back).endsWith("000000099\n"), text(back));
        assertEquals(1000, back.getLast().end());
        assertTrue(back.getFirst().offset() >= 900, "older than the cap kept: " + back.getFirst().offset());
    }

    @Test
    void aChunkLongerThanHalfTheCapKeepsItsEnd() throws Exception {
        OutputFiles files = OutputFiles.in(state, MemoryBudget.unlimited(), () -> 0);
        files.append("p-3", 8, OutputLog.Stream.STDOUT, 0, bytes("abcdefghij"));
        files.close();
        List<OutputSegments.Stored> back = files.load("p-3");
        assertEquals("ghij", text(back));
        assertEquals(6, back.getFirst().offset());
    }

    @Test
    void aHoleStartsTheLogAfterItAndATornRecordIsIgnored() throws Exception {
        OutputFiles files = OutputFiles.in(state, MemoryBudget.unlimited(), () -> 0);
        files.append("p-4", 1024, OutputLog.Stream.STDOUT, 0, bytes("lost "));
        files.append("p-4", 1024, OutputLog.Stream.STDOUT, 20, bytes("kept "));
        files.append("p-4", 1024, OutputLog.Stream.STDOUT, 25, bytes("too"));
        files.close();
        Path log = state.resolve("output").resolve("p-4.log");
        // A crash in the middle of a record: its header and part of its bytes.
        Files.write(log, ByteBuffer.allocate(OutputSegments.HEADER + 2).putInt(50).put((byte) 0).putLong(28)
                .putLong(0).array(), StandardOpenOption.APPEND);
        List<OutputSegments.Stored> back = files.load("p-4");
        assertEquals("kept too", text(back));
        assertEquals(20, back.getFirst().offset());

        OutputLog restored = new OutputLog(1024);
        restored.restore(back);
        assertEquals(20, restored.start());
        assertEquals(28, restored.end());
        assertTrue(restored.read(0, 100) instanceof OutputLog.Read.Gap g && g.resumedAt() == 20);
    }

    @Test
    void deleteAndRetainOnlyRemoveFiles() throws Exception {
        OutputFiles files = OutputFiles.in(state, MemoryBudget.unlimited(), () -> 0);
        for (String id : List.of("p-5", "p-6", "p-7")) {
            files.append(id, 1024, OutputLog.Stream.STDOUT, 0, bytes("x"));
        }
        files.delete("p-5");
        files.flushed().get(10, TimeUnit.SECONDS);
        Path dir = state.resolve("output");
        assertFalse(Files.exists(dir.resolve("p-5.log")));
        files.retainOnly(Set.of("p-6"));
        assertTrue(Files.exists(dir.resolve("p-6.log")));
        assertFalse(Files.exists(dir.resolve("p-7.log")));
        files.close();
    }

    @Test
    void aFullBudgetCountsTheLossAndLeavesAHole() throws Exception {
        MemoryBudget memory = new MemoryBudget(4);
        OutputFiles files = OutputFiles.in(state, memory, () -> 0);
        memory.reserve(4, "the test"); // nothing left for the queue
        files.append("p-8", 1024, OutputLog.Stream.STDOUT, 0, bytes("dropped"));
        memory.release(4);
        files.append("p-8", 1024, OutputLog.Stream.STDOUT, 7, bytes("ok"));
        files.close();
        assertEquals(7, files.lostBytes());
        List<OutputSegments.Stored> back = files.load("p-8");
        assertEquals("ok", text(back));
        assertEquals(7, back.getFirst().offset());
    }
}
