package dev.forkd.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The least of a Redis client the bench needs: RESP2 commands written (and pipelined: {@link #send}
 * does not flush) and replies read, over any byte streams. Not a general client: no reconnects, no
 * pub/sub, replies as plain Java values ({@code String} for simple strings, {@code Long}, {@code byte[]}
 * for bulk strings, {@code null} for nil, {@code List<Object>} for arrays; an error reply throws).
 */
final class Resp implements AutoCloseable {

    private static final byte[] CRLF = {'\r', '\n'};

    private final InputStream in;
    private final OutputStream out;

    Resp(InputStream in, OutputStream out) {
        this.in = new BufferedInputStream(in, 1 << 16);
        this.out = new BufferedOutputStream(out, 1 << 16);
    }

    /** Writes one command (its arguments as bulk strings) without waiting for its reply. */
    void send(List<byte[]> args) throws IOException {
        out.write('*');
        out.write(Long.toString(args.size()).getBytes(StandardCharsets.US_ASCII));
        out.write(CRLF);
        for (byte[] a : args) {
            out.write('$');
            out.write(Integer.toString(a.length).getBytes(StandardCharsets.US_ASCII));
            out.write(CRLF);
            out.write(a);
            out.write(CRLF);
        }
    }

    void send(String... args) throws IOException {
        List<byte[]> bytes = new ArrayList<>(args.length);
        for (String a : args) {
            bytes.add(a.getBytes(StandardCharsets.UTF_8));
        }
        send(bytes);
    }

    void flush() throws IOException {
        out.flush();
    }

    /** Sends one command and reads its reply. */
    Object call(String... args) throws IOException {
        send(args);
        flush();
        return read();
    }

    /** Reads the next reply. */
    Object read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("redis closed the connection");
        }
        String line = line();
        return switch (type) {
            case '+' -> line;
            case '-' -> throw new IOException("redis: " + line);
            case ':' -> Long.parseLong(line);
            case '$' -> {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    yield null;
                }
                byte[] data = in.readNBytes(n);
                if (data.length < n || in.read() != '\r' || in.read() != '\n') {
                    throw new EOFException("a bulk string ended early");
                }
                yield data;
            }
            case '*' -> {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    yield null;
                }
                List<Object> items = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    items.add(read());
                }
                yield items;
            }
            default -> throw new IOException("not a RESP reply: type byte " + type);
        };
    }

    private String line() throws IOException {
        StringBuilder b = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("a reply line ended early");
            }
            if (c == '\r') {
                if (in.read() != '\n') {
                    throw new IOException("CR without LF in a reply line");
                }
                return b.toString();
            }
            b.append((char) c);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            out.close();
        } finally {
            in.close();
        }
    }
}
