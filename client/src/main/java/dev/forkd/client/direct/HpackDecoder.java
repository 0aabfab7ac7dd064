package dev.forkd.client.direct;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Decodes HPACK header blocks (RFC 7541): indexed fields from the static and dynamic tables, literals
 * with and without indexing, Huffman-coded strings and table size updates. One decoder per connection:
 * the dynamic table lives as long as the connection and follows every block in order.
 */
final class HpackDecoder {

    /** The static table (RFC 7541, Appendix A); index 1 is element 0. */
    private static final List<Header> STATIC = List.of(
            new Header(":authority", ""), new Header(":method", "GET"), new Header(":method", "POST"),
            new Header(":path", "/"), new Header(":path", "/index.html"), new Header(":scheme", "http"),
            new Header(":scheme", "https"), new Header(":status", "200"), new Header(":status", "204"),
            new Header(":status", "206"), new Header(":status", "304"), new Header(":status", "400"),
            new Header(":status", "404"), new Header(":status", "500"), new Header("accept-charset", ""),
            new Header("accept-encoding", "gzip, deflate"), new Header("accept-language", ""),
            new Header("accept-ranges", ""), new Header("accept", ""), new Header("access-control-allow-origin", ""),
            new Header("age", ""), new Header("allow", ""), new Header("authorization", ""),
            new Header("cache-control", ""), new Header("content-disposition", ""), new Header("content-encoding", ""),
            new Header("content-language", ""), new Header("content-length", ""), new Header("content-location", ""),
            new Header("content-range", ""), new Header("content-type", ""), new Header("cookie", ""),
            new Header("date", ""), new Header("etag", ""), new Header("expect", ""), new Header("expires", ""),
            new Header("from", ""), new Header("host", ""), new Header("if-match", ""),
            new Header("if-modified-since", ""), new Header("if-none-match", ""), new Header("if-range", ""),
            new Header("if-unmodified-since", ""), new Header("last-modified", ""), new Header("link", ""),
            new Header("location", ""), new Header("max-forwards", ""), new Header("proxy-authenticate", ""),
            new Header("proxy-authorization", ""), new Header("range", ""), new Header("referer", ""),
            new Header("refresh", ""), new Header("retry-after", ""), new Header("server", ""),
            new Header("set-cookie", ""), new Header("strict-transport-security", ""),
            new Header("transfer-encoding", ""), new Header("user-agent", ""), new Header("vary", ""),
            new Header("via", ""), new Header("www-authenticate", ""));

    /** What RFC 7541 4.1 counts for each entry beyond its name and value. */
    private static final int ENTRY_OVERHEAD = 32;

    /** The most this decoder lets the peer use (what we advertise as SETTINGS_HEADER_TABLE_SIZE). */
    private final int maxTableSize;
    /** The bound of one decoded header list (names + values + 32 each), as SETTINGS_MAX_HEADER_LIST_SIZE. */
    private final int maxHeaderListSize;
    /** Newest first: dynamic index 62 is the first element. */
    private final ArrayDeque<Header> dynamic = new ArrayDeque<>();
    private int tableSize;
    private int tableCapacity;

    HpackDecoder(int maxTableSize, int maxHeaderListSize) {
        this.maxTableSize = maxTableSize;
        this.maxHeaderListSize = maxHeaderListSize;
        this.tableCapacity = maxTableSize;
    }

    /** The dynamic table's entries, newest first (for tests that check eviction). */
    List<Header> dynamicTable() {
        return List.copyOf(dynamic);
    }

    /** The dynamic table's size as RFC 7541 4.1 counts it. */
    int dynamicTableSize() {
        return tableSize;
    }

    /** Decodes one complete header block. */
    List<Header> decode(byte[] block) throws HpackException {
        List<Header> headers = new ArrayList<>();
        Cursor in = new Cursor(block);
        long listSize = 0;
        boolean fieldSeen = false;
        while (in.hasMore()) {
            int b = in.peek();
            Header h;
            if ((b & 0x80) != 0) { // 6.1 indexed header field
                int index = in.integer(7);
                if (index == 0) {
                    throw new HpackException("index 0 in an indexed header field");
                }
                h = entry(index);
            } else if ((b & 0x40) != 0) { // 6.2.1 literal with incremental indexing
                h = literal(in, 6);
                add(h);
            } else if ((b & 0x20) != 0) { // 6.3 dynamic table size update: only before the first field
                if (fieldSeen) {
                    throw new HpackException("table size update after a header field");
                }
                int size = in.integer(5);
                if (size > maxTableSize) {
                    throw new HpackException("table size update to " + size + " past the " + maxTableSize + " allowed");
                }
                tableCapacity = size;
                evictTo(size);
                continue;
            } else { // 6.2.2 without indexing (0000), 6.2.3 never indexed (0001)
                h = literal(in, 4);
            }
            fieldSeen = true;
            listSize += h.name().length() + h.value().length() + ENTRY_OVERHEAD;
            if (listSize > maxHeaderListSize) {
                throw new HpackException("header list larger than " + maxHeaderListSize + " bytes");
            }
            headers.add(h);
        }
        return headers;
    }

    private Header literal(Cursor in, int prefixBits) throws HpackException {
        int index = in.integer(prefixBits);
        String name = index == 0 ? in.string() : entry(index).name();
        return new Header(name, in.string());
    }

    private Header entry(int index) throws HpackException {
        if (index <= STATIC.size()) {
            return STATIC.get(index - 1);
        }
        int dynamicIndex = index - STATIC.size() - 1;
        if (dynamicIndex >= dynamic.size()) {
            throw new HpackException("header index " + index + " past the tables' " + (STATIC.size() + dynamic.size()));
        }
        Iterator<Header> it = dynamic.iterator();
        for (int i = 0; i < dynamicIndex; i++) {
            it.next();
        }
        return it.next();
    }

    private void add(Header h) {
        int size = entrySize(h);
        if (size > tableCapacity) { // 4.4: an entry larger than the table empties it
            dynamic.clear();
            tableSize = 0;
            return;
        }
        evictTo(tableCapacity - size);
        dynamic.addFirst(h);
        tableSize += size;
    }

    private void evictTo(int size) {
        while (tableSize > size) {
            tableSize -= entrySize(dynamic.removeLast());
        }
    }

    private static int entrySize(Header h) {
        return h.name().length() + h.value().length() + ENTRY_OVERHEAD;
    }

    /** A read position in one header block. */
    private static final class Cursor {
        private final byte[] block;
        private int pos;

        Cursor(byte[] block) {
            this.block = block;
        }

        boolean hasMore() {
            return pos < block.length;
        }

        int peek() {
            return block[pos] & 0xff;
        }

        private int next() throws HpackException {
            if (pos >= block.length) {
                throw new HpackException("header block ends inside a field");
            }
            return block[pos++] & 0xff;
        }

        /** An integer with an N-bit prefix (5.1); bounded to what an int holds. */
        int integer(int prefixBits) throws HpackException {
            int max = (1 << prefixBits) - 1;
            int value = next() & max;
            if (value < max) {
                return value;
            }
            int shift = 0;
            int b;
            do {
                b = next();
                if (shift > 21) {
                    throw new HpackException("integer too large in a header block");
                }
                value += (b & 0x7f) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            if (value < 0) {
                throw new HpackException("integer too large in a header block");
            }
            return value;
        }

        /** A string literal (5.2), Huffman-coded or not. */
        String string() throws HpackException {
            boolean huffman = (peek() & 0x80) != 0;
            int length = integer(7);
            if (length > block.length - pos) {
                throw new HpackException("string of " + length + " bytes past the end of the header block");
            }
            byte[] bytes = huffman ? HuffmanCode.decode(block, pos, length)
                    : java.util.Arrays.copyOfRange(block, pos, pos + length);
            pos += length;
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }
}
