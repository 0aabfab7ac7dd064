package dev.forkd.server.pool;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The wire between the pool and one persistent worker: requests written to its stdin, and the
 * responses cut out of what it wrote, a line or a length-prefixed frame at a time.
 */
final class WorkerFraming {

    static final int MAX_RESPONSE = 64 * 1024 * 1024;

    private final PoolSpec.Framing framing;
    private byte[] buf = new byte[8192];
    private int bufLen;

    WorkerFraming(PoolSpec.Framing framing) {
        this.framing = framing;
    }

    /** Writes one request to {@code out}: an argument tuple is one tab-separated line. */
    void encode(TaskInput input, ByteArrayOutputStream out) {
        byte[] data = input.isTuple()
                ? String.join("\t", input.args()).getBytes(StandardCharsets.UTF_8) : input.item();
        if (framing == PoolSpec.Framing.LENGTH_PREFIXED) {
            out.write(data.length >>> 24);
            out.write(data.length >>> 16);
            out.write(data.length >>> 8);
            out.write(data.length);
            out.write(data, 0, data.length);
        } else {
            out.write(data, 0, data.length);
            out.write('\n');
        }
    }

    /** Keeps what the worker wrote on stdout until a whole response is in. */
    void append(byte[] data) {
        if (bufLen + data.length > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, bufLen + data.length));
        }
        System.arraycopy(data, 0, buf, bufLen, data.length);
        bufLen += data.length;
    }

    /**
     * Hands each whole response to {@code respond} (which answers false to stop), or tells
     * {@code garbage} how the worker broke the protocol.
     */
    void drain(Predicate<byte[]> respond, Consumer<String> garbage) {
        int pos = 0;
        if (framing == PoolSpec.Framing.LINE) {
            int nl;
            while ((nl = indexOf(buf, pos, bufLen, (byte) '\n')) >= 0) {
                if (!respond.test(Arrays.copyOfRange(buf, pos, nl))) {
                    return;
                }
                pos = nl + 1;
            }
            if (bufLen - pos > MAX_RESPONSE) {
                garbage.accept("it wrote a line longer than " + MAX_RESPONSE + " bytes");
                return;
            }
        } else {
            while (bufLen - pos >= 4) {
                int len = ((buf[pos] & 0xff) << 24) | ((buf[pos + 1] & 0xff) << 16)
                        | ((buf[pos + 2] & 0xff) << 8) | (buf[pos + 3] & 0xff);
                if (len < 0 || len > MAX_RESPONSE) {
                    garbage.accept("it wrote a frame length of " + Integer.toUnsignedString(len)
                            + " (at most " + MAX_RESPONSE + ")");
                    return;
                }
                if (bufLen - pos - 4 < len) {
                    break;
                }
                if (!respond.test(Arrays.copyOfRange(buf, pos + 4, pos + 4 + len))) {
                    return;
                }
                pos += 4 + len;
            }
        }
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, bufLen - pos);
            bufLen -= pos;
        }
    }

    /** The first index of {@code b} in {@code a[from, to)}, or -1. */
    static int indexOf(byte[] a, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
