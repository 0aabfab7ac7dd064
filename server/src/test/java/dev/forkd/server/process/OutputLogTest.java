package dev.forkd.server.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutputLogTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsFromAnyOffsetIncludingInsideAChunk() {
        OutputLog log = new OutputLog(1024);
        log.append(OutputLog.Stream.STDOUT, b("hello "));
        log.append(OutputLog.Stream.STDERR, b("world"));
        var read = (OutputLog.Read.Data) log.read(3, 100);
        assertEquals(2, read.chunks().size());
        assertEquals(3, read.chunks().get(0).offset());
        assertArrayEquals(b("lo "), read.chunks().get(0).data());
        assertEquals(OutputLog.Stream.STDERR, read.chunks().get(1).stream());
        assertInstanceOf(OutputLog.Read.AtEnd.class, log.read(11, 100));
    }

    @Test
    void pastTheCapTheOldestIsDroppedAndTheReaderToldWhereItResumes() {
        OutputLog log = new OutputLog(10);
        log.append(OutputLog.Stream.STDOUT, b("aaaaa"));
        log.append(OutputLog.Stream.STDOUT, b("bbbbb"));
        log.append(OutputLog.Stream.STDOUT, b("ccccc"));
        assertEquals(5, log.start());
        assertEquals(15, log.end());
        var gap = (OutputLog.Read.Gap) log.read(0, 100);
        assertEquals(5, gap.resumedAt());
        var data = (OutputLog.Read.Data) log.read(5, 100);
        assertEquals(2, data.chunks().size());
    }

    @Test
    void outputAHolderHasNotReadIsKeptPastTheCapUpToTheSlack() {
        OutputLog log = new OutputLog(10, 10);
        log.append(OutputLog.Stream.STDOUT, b("aaaaa"), 0);
        log.append(OutputLog.Stream.STDOUT, b("bbbbb"), 0);
        log.append(OutputLog.Stream.STDOUT, b("ccccc"), 0);
        assertEquals(0, log.start(), "the holder at 0 keeps everything while within cap + slack");
        log.append(OutputLog.Stream.STDOUT, b("ddddd"), 7);
        assertEquals(5, log.start(), "chunks wholly before the holder's offset go");
        assertInstanceOf(OutputLog.Read.Data.class, log.read(7, 100));
        log.append(OutputLog.Stream.STDOUT, b("eeeee"), 7);
        log.append(OutputLog.Stream.STDOUT, b("fffff"), 7);
        assertEquals(10, log.start(), "past cap + slack the oldest goes even if the holder has not read it");
        assertEquals(30, log.end());
        assertInstanceOf(OutputLog.Read.Gap.class, log.read(7, 100));
    }
}
