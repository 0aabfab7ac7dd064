package dev.forkd.address;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The forms {@code --listen}, {@code --address} and {@code FORKD_ADDRESS} accept, and what they refuse. */
class ListenAddressTest {

    @Test
    void aUnixSocketIsWrittenThreeWays() {
        ListenAddress expected = new ListenAddress.Unix(Path.of("/run/forkd.sock"));
        assertEquals(expected, ListenAddress.parse("unix:/run/forkd.sock"));
        assertEquals(expected, ListenAddress.parse("unix:///run/forkd.sock"));
        assertEquals(expected, ListenAddress.parse(" /run/forkd.sock "));
        assertEquals("unix:/run/forkd.sock", expected.toString());
    }

    @Test
    void tcpTakesAHostOrABracketedV6Address() {
        assertEquals(new ListenAddress.Tcp("127.0.0.1", 7070), ListenAddress.parse("127.0.0.1:7070"));
        ListenAddress v6 = ListenAddress.parse("[::1]:0");
        assertEquals(new ListenAddress.Tcp("::1", 0), v6);
        assertEquals("[::1]:0", v6.toString());
    }

    @Test
    void aMalformedAddressIsRefusedWithTheReason() {
        assertEquals("address is empty",
                assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse(" ")).getMessage());
        assertEquals("unix address \"unix:forkd.sock\" needs an absolute path",
                assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("unix:forkd.sock")).getMessage());
        assertEquals("address \"localhost\" is neither unix:/path nor host:port",
                assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("localhost")).getMessage());
        assertEquals("address \"localhost:http\" has a bad port",
                assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("localhost:http")).getMessage());
        assertEquals("address \"localhost:70000\": port out of range",
                assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("localhost:70000")).getMessage());
    }
}
