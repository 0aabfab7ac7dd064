package dev.forkd.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.ForkdServer;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.TcpSecurity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server refuses, naming the path, a socket directory someone else owns or may enter, and a
 * token or key file others may read; it never starts listening through them.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PrivateFilesTest {

    @TempDir
    Path tmp;

    private ServerConfig unixIn(Path dir) {
        return ServerConfig.defaults(new ForkdPaths(dir)).withListen(new ListenAddress.Unix(dir.resolve("s.sock")));
    }

    private static String refusal(ServerConfig config) {
        return assertThrows(IOException.class, () -> ForkdServer.start(config).close()).getMessage();
    }

    @Test
    void aSocketDirectoryOpenToOthersIsRefusedNamingIt() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("open"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        String m = refusal(unixIn(dir));
        assertTrue(m.contains(dir.toString()) && m.contains("0777"), m);
        assertTrue(!Files.exists(dir.resolve("s.sock")), "no socket was made");

        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x---"));
        String group = refusal(unixIn(dir));
        assertTrue(group.contains("0710"), group);
    }

    @Test
    void aSocketDirectoryOfAnotherUserIsRefused() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("theirs"));
        Files.setAttribute(dir, "unix:uid", 65534); // nobody; the tests run as root, who may chown
        assertEquals(65534, Files.getAttribute(dir, "unix:uid"));
        String m = refusal(unixIn(dir));
        assertTrue(m.contains(dir.toString()) && m.contains("uid 65534"), m);
    }

    @Test
    void aSymbolicLinkAsSocketDirectoryIsRefused() throws Exception {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        String m = refusal(unixIn(link));
        assertTrue(m.contains(link.toString()) && m.contains("symbolic link"), m);
    }

    @Test
    void aTokenFileOthersMayReadIsRefusedNamingIt() throws Exception {
        Path token = Servers.tokenFile(tmp, "a-token-of-more-than-16-characters");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
        String m = refusal(unixIn(tmp.resolve("state")).withTokenFile(Optional.of(token)));
        assertTrue(m.contains(token.toString()) && m.contains("0644"), m);
    }

    @Test
    void aKeyFileOthersMayReadIsRefusedNamingIt() throws Exception {
        Path token = Servers.tokenFile(tmp, "a-token-of-more-than-16-characters");
        Path key = tmp.resolve("server.key");
        Files.writeString(key, "not even a key: the mode is checked first");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        ServerConfig config = ServerConfig.defaults(new ForkdPaths(tmp.resolve("state")))
                .withTokenFile(Optional.of(token))
                .withTransport(new ListenAddress.Tcp("127.0.0.1", 0),
                        new TcpSecurity.Tls(tmp.resolve("server.pem"), key, Optional.empty()));
        String m = refusal(config);
        assertTrue(m.contains(key.toString()) && m.contains("0640"), m);
    }

    @Test
    void unusableTlsFilesAreRefusedAtStartNamingThem() throws Exception {
        Path token = Servers.tokenFile(tmp, "a-token-of-more-than-16-characters");
        Path cert = tmp.resolve("garbage.pem");
        Path key = tmp.resolve("garbage.key");
        Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nnor this\n-----END PRIVATE KEY-----\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        ServerConfig garbage = ServerConfig.defaults(new ForkdPaths(tmp.resolve("state")))
                .withTokenFile(Optional.of(token))
                .withTransport(new ListenAddress.Tcp("127.0.0.1", 0), new TcpSecurity.Tls(cert, key, Optional.empty()));
        String m = refusal(garbage);
        assertTrue(m.contains(cert.toString()) && m.contains(key.toString()), m);

        Path missing = tmp.resolve("missing.pem");
        String gone = refusal(garbage.withTransport(new ListenAddress.Tcp("127.0.0.1", 0),
                new TcpSecurity.Tls(missing, key, Optional.empty())));
        assertTrue(gone.contains(missing.toString()), gone);
    }

    @Test
    void aMissingSocketDirectoryIsCreatedPrivate() throws Exception {
        Path dir = tmp.resolve("new/forkd");
        try (ForkdServer server = ForkdServer.start(unixIn(dir))) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("s.sock"))),
                    "the socket itself is private too, whatever the umask");
        }
    }
}
