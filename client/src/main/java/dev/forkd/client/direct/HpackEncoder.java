package dev.forkd.client.direct;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes a request's header block the plainest way HPACK allows: every field a literal without
 * indexing with a literal name, no Huffman (RFC 7541 6.2.2). It keeps no state, so the peer's
 * decoder table is never touched.
 */
final class HpackEncoder {

    private HpackEncoder() {}

    static byte[] encode(List<Header> headers) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        for (Header h : headers) {
            out.write(0x00);
            string(out, h.name());
            string(out, h.value());
        }
        return out.toByteArray();
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        integer(out, bytes.length, 7, 0x00);
        out.writeBytes(bytes);
    }

    /** An integer with an N-bit prefix (RFC 7541 5.1), the prefix's other bits being {@code flags}. */
    static void integer(ByteArrayOutputStream out, int value, int prefixBits, int flags) {
        int max = (1 << prefixBits) - 1;
        if (value < max) {
            out.write(flags | value);
            return;
        }
        out.write(flags | max);
        value -= max;
        while (value >= 0x80) {
            out.write((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out.write(value);
    }
}
