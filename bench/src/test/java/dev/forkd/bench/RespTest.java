package dev.forkd.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bench's RESP client on bytes (no Redis needed): what it writes and how it reads each reply type. */
class RespTest {

    private static Resp over(String replies, ByteArrayOutputStream written) {
        return new Resp(new ByteArrayInputStream(replies.getBytes(StandardCharsets.UTF_8)), written);
    }

    @Test
    void writesCommandsAsArraysOfBulkStringsAndOnlyOnFlush() throws IOException {
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        Resp r = over("", written);
        r.send("LPUSH", "k", "item-1");
        assertEquals(0, written.size(), "pipelined: nothing leaves before flush");
        r.flush();
        assertEquals("*3\r\n$5\r\nLPUSH\r\n$1\r\nk\r\n$6\r\nitem-1\r\n", written.toString(StandardCharsets.UTF_8));
    }

    @Test
    void readsEveryReplyType() throws IOException {
        Resp r = over("+OK\r\n:42\r\n$5\r\nhe\r\no\r\n$-1\r\n*2\r\n$1\r\nk\r\n$2\r\nv1\r\n*-1\r\n", new ByteArrayOutputStream());
        assertEquals("OK", r.read());
        assertEquals(42L, r.read());
        assertArrayEquals("he\r\no".getBytes(StandardCharsets.UTF_8), (byte[]) r.read());
        assertNull(r.read());
        List<?> popped = (List<?>) r.read();
        assertArrayEquals("v1".getBytes(StandardCharsets.UTF_8), (byte[]) popped.get(1));
        assertNull(r.read());
    }

    @Test
    void anErrorReplyThrowsAndAnEndedStreamToo() {
        assertThrows(IOException.class, () -> over("-ERR wrong type\r\n", new ByteArrayOutputStream()).read());
        assertThrows(EOFException.class, () -> over("$5\r\nab", new ByteArrayOutputStream()).read());
        assertThrows(EOFException.class, () -> over("", new ByteArrayOutputStream()).read());
    }
}
