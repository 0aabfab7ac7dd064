package dev.forkd.server.pool;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.Arrays;

/** The last bytes of a stream (a failed task's stderr). */
final class OutputTail {

    private final int limit;
    private final ArrayDeque<byte[]> parts = new ArrayDeque<>();
    private int size;

    OutputTail(int limit) {
        this.limit = limit;
    }

    void add(byte[] data) {
        parts.addLast(data);
        size += data.length;
        while (size - parts.peekFirst().length >= limit) {
            size -= parts.pollFirst().length;
        }
    }

    byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        parts.forEach(p -> out.write(p, 0, p.length));
        byte[] all = out.toByteArray();
        return all.length <= limit ? all : Arrays.copyOfRange(all, all.length - limit, all.length);
    }
}
