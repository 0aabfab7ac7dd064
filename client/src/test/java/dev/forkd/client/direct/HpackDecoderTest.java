package dev.forkd.client.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decoder against RFC 7541's examples (Appendix C.2 to C.6) and some blocks it must refuse. */
class HpackDecoderTest {

    private static final String DATE1 = "Mon, 21 Oct 2013 20:13:21 GMT";
    private static final String DATE2 = "Mon, 21 Oct 2013 20:13:22 GMT";
    private static final String EXAMPLE = "https://www.example.com";
    private static final String COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

    private static final List<Header> REQUEST1 = List.of(h(":method", "GET"), h(":scheme", "http"), h(":path", "/"),
            h(":authority", "www.example.com"));
    private static final List<Header> REQUEST2 = List.of(h(":method", "GET"), h(":scheme", "http"), h(":path", "/"),
            h(":authority", "www.example.com"), h("cache-control", "no-cache"));
    private static final List<Header> REQUEST3 = List.of(h(":method", "GET"), h(":scheme", "https"),
            h(":path", "/index.html"), h(":authority", "www.example.com"), h("custom-key", "custom-value"));
    private static final List<List<Header>> REQUEST_TABLES = List.of(
            List.of(h(":authority", "www.example.com")),
            List.of(h("cache-control", "no-cache"), h(":authority", "www.example.com")),
            List.of(h("custom-key", "custom-value"), h("cache-control", "no-cache"), h(":authority", "www.example.com")));
    private static final List<Integer> REQUEST_SIZES = List.of(57, 110, 164);

    private static final List<Header> RESPONSE1 = List.of(h(":status", "302"), h("cache-control", "private"),
            h("date", DATE1), h("location", EXAMPLE));
    private static final List<Header> RESPONSE2 = List.of(h(":status", "307"), h("cache-control", "private"),
            h("date", DATE1), h("location", EXAMPLE));
    private static final List<Header> RESPONSE3 = List.of(h(":status", "200"), h("cache-control", "private"),
            h("date", DATE2), h("location", EXAMPLE), h("content-encoding", "gzip"), h("set-cookie", COOKIE));
    private static final List<List<Header>> RESPONSE_TABLES = List.of(
            List.of(h("location", EXAMPLE), h("date", DATE1), h("cache-control", "private"), h(":status", "302")),
            List.of(h(":status", "307"), h("location", EXAMPLE), h("date", DATE1), h("cache-control", "private")),
            List.of(h("set-cookie", COOKIE), h("content-encoding", "gzip"), h("date", DATE2)));
    private static final List<Integer> RESPONSE_SIZES = List.of(222, 222, 215);

    private static Header h(String name, String value) {
        return new Header(name, value);
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void c2_1_literalWithIndexingEntersTheTable() throws Exception {
        HpackDecoder d = new HpackDecoder(4096, 65536);
        assertEquals(List.of(h("custom-key", "custom-header")),
                d.decode(hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572")));
        assertEquals(List.of(h("custom-key", "custom-header")), d.dynamicTable());
        assertEquals(55, d.dynamicTableSize());
    }

    @Test
    void c2_2_literalWithoutIndexingLeavesTheTableAlone() throws Exception {
        HpackDecoder d = new HpackDecoder(4096, 65536);
        assertEquals(List.of(h(":path", "/sample/path")), d.decode(hex("040c2f73616d706c652f70617468")));
        assertEquals(List.of(), d.dynamicTable());
    }

    @Test
    void c2_3_neverIndexedLiteralLeavesTheTableAlone() throws Exception {
        HpackDecoder d = new HpackDecoder(4096, 65536);
        assertEquals(List.of(h("password", "secret")), d.decode(hex("100870617373776f726406736563726574")));
        assertEquals(List.of(), d.dynamicTable());
    }

    @Test
    void c2_4_indexedFieldFromTheStaticTable() throws Exception {
        HpackDecoder d = new HpackDecoder(4096, 65536);
        assertEquals(List.of(h(":method", "GET")), d.decode(hex("82")));
        assertEquals(List.of(), d.dynamicTable());
    }

    @Test
    void c3_requestsWithoutHuffman() throws Exception {
        sequence(4096, List.of("828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
                "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"),
                List.of(REQUEST1, REQUEST2, REQUEST3), REQUEST_TABLES, REQUEST_SIZES);
    }

    @Test
    void c4_requestsWithHuffman() throws Exception {
        sequence(4096, List.of("828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
                "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"),
                List.of(REQUEST1, REQUEST2, REQUEST3), REQUEST_TABLES, REQUEST_SIZES);
    }

    @Test
    void c5_responsesWithoutHuffmanEvictFromA256ByteTable() throws Exception {
        sequence(256, List.of(
                "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54"
                        + "6e1768747470733a2f2f7777772e6578616d706c652e636f6d",
                "4803333037c1c0bf",
                "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f"
                        + "3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076"
                        + "657273696f6e3d31"),
                List.of(RESPONSE1, RESPONSE2, RESPONSE3), RESPONSE_TABLES, RESPONSE_SIZES);
    }

    @Test
    void c6_responsesWithHuffmanEvictFromA256ByteTable() throws Exception {
        sequence(256, List.of(
                "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f"
                        + "0b97c8e9ae82ae43d3",
                "4883640effc1c0bf",
                "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335df"
                        + "dfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"),
                List.of(RESPONSE1, RESPONSE2, RESPONSE3), RESPONSE_TABLES, RESPONSE_SIZES);
    }

    /** Blocks decoded in order by one decoder, with the table after each as the RFC shows it. */
    private static void sequence(int tableSize, List<String> blocks, List<List<Header>> expected,
            List<List<Header>> tables, List<Integer> sizes) throws Exception {
        HpackDecoder d = new HpackDecoder(tableSize, 65536);
        for (int i = 0; i < blocks.size(); i++) {
            assertEquals(expected.get(i), d.decode(hex(blocks.get(i))), "block " + (i + 1));
            assertEquals(tables.get(i), d.dynamicTable(), "table after block " + (i + 1));
            assertEquals(sizes.get(i), d.dynamicTableSize(), "table size after block " + (i + 1));
        }
    }

    @Test
    void aSizeUpdateEvictsAndBoundsTheTable() throws Exception {
        HpackDecoder d = new HpackDecoder(4096, 65536);
        d.decode(hex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"));
        assertEquals(List.of(h(":method", "GET")), d.decode(hex("2082"))); // size update to 0, then :method GET
        assertEquals(List.of(), d.dynamicTable());
        assertThrows(HpackException.class, () -> d.decode(hex("3fe21f"))); // 4097, > the 4096 allowed
    }

    @Test
    void malformedBlocksAreRefused() {
        HpackDecoder d = new HpackDecoder(4096, 65536);
        assertThrows(HpackException.class, () -> d.decode(hex("80")), "index 0");
        assertThrows(HpackException.class, () -> d.decode(hex("be")), "an index past both tables");
        assertThrows(HpackException.class, () -> d.decode(hex("040c2f73616d")), "a string past the block");
        assertThrows(HpackException.class, () -> d.decode(hex("8220")), "a size update after a field");
        // Huffman: "a" is 00011 then padding that is not all ones.
        assertThrows(HpackException.class, () -> d.decode(hex("04811800")), "bad padding");
        // Huffman: EOS (30 ones) inside a string.
        assertThrows(HpackException.class, () -> d.decode(hex("0484ffffffff")), "EOS in a string");
    }

    @Test
    void aHeaderListPastItsBoundIsRefused() {
        HpackDecoder d = new HpackDecoder(4096, 40);
        assertThrows(HpackException.class, () -> d.decode(hex("100870617373776f726406736563726574")));
    }
}
