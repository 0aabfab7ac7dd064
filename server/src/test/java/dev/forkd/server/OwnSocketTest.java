package dev.forkd.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stopping server removes its socket file only while the file is still the one it bound. */
class OwnSocketTest {

    @TempDir
    Path dir;

    private static ServerSocketChannel bind(Path path) throws Exception {
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        channel.bind(UnixDomainSocketAddress.of(path));
        return channel;
    }

    @Test
    void removesTheSocketItBound() throws Exception {
        Path path = dir.resolve("s.sock");
        try (ServerSocketChannel ignored = bind(path)) {
            OwnSocket own = OwnSocket.bound(path);
            own.remove();
            assertFalse(Files.exists(path));
            own.remove(); // gone already: nothing to do, no error
        }
    }

    @Test
    void leavesAnotherServersSocketAtTheSamePath() throws Exception {
        Path path = dir.resolve("s.sock");
        try (ServerSocketChannel first = bind(path)) {
            OwnSocket own = OwnSocket.bound(path);
            Files.delete(path); // removed from under the first server (e.g. its runtime directory was cleaned)
            try (ServerSocketChannel second = bind(path)) {
                own.remove(); // the first server stops
                assertTrue(Files.exists(path), "the second server's socket was removed");
            }
        }
    }
}
