package dev.forkd.server.security;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.TcpSecurity;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a TCP listener needs before the server starts at all: TLS or loopback plaintext, and a credential. */
class TransportRulesTest {

    private static final ServerConfig WITH_TOKEN = ServerConfig.defaults(new ForkdPaths(Path.of("/tmp/forkd-rules")))
            .withTokenFile(Optional.of(Path.of("/tmp/forkd-rules/token")));
    private static final TcpSecurity.Tls TLS = new TcpSecurity.Tls(Path.of("/c.pem"), Path.of("/k.pem"), Optional.empty());
    private static final TcpSecurity.Tls MTLS = new TcpSecurity.Tls(Path.of("/c.pem"), Path.of("/k.pem"), Optional.of(Path.of("/ca.pem")));

    private static String refusal(ServerConfig base, ListenAddress address, TcpSecurity security) {
        return assertThrows(IllegalArgumentException.class, () -> base.withTransport(address, security)).getMessage();
    }

    @Test
    void tcpWithoutTlsIsRefusedUnlessPlaintextIsAskedFor() {
        String m = refusal(WITH_TOKEN, new ListenAddress.Tcp("127.0.0.1", 0), new TcpSecurity.Unset());
        assertTrue(m.contains("--tls-cert") && m.contains("--insecure-plaintext"), m);
        assertDoesNotThrow(() -> WITH_TOKEN.withTransport(new ListenAddress.Tcp("127.0.0.1", 0),
                new TcpSecurity.InsecurePlaintext()));
    }

    @Test
    void plaintextIsOnlyEverOnLoopback() {
        for (String host : new String[] {"0.0.0.0", "::", "10.1.2.3", "example.com", "127.0.0.1.example.com"}) {
            String m = refusal(WITH_TOKEN, new ListenAddress.Tcp(host, 7000), new TcpSecurity.InsecurePlaintext());
            assertTrue(m.contains("loopback") && m.contains(host), m);
        }
        for (String host : new String[] {"127.0.0.1", "127.0.0.2", "::1", "localhost"}) {
            assertDoesNotThrow(() -> WITH_TOKEN.withTransport(new ListenAddress.Tcp(host, 7000),
                    new TcpSecurity.InsecurePlaintext()), host);
        }
    }

    @Test
    void tlsOnAnyAddressIsAccepted() {
        assertDoesNotThrow(() -> WITH_TOKEN.withTransport(new ListenAddress.Tcp("0.0.0.0", 7000), TLS));
    }

    @Test
    void tcpNeedsATokenOrClientCertificates() {
        ServerConfig noToken = ServerConfig.defaults(new ForkdPaths(Path.of("/tmp/forkd-rules")));
        String m = refusal(noToken, new ListenAddress.Tcp("0.0.0.0", 7000), TLS);
        assertTrue(m.contains("--token-file") && m.contains("--tls-client-ca"), m);
        assertThrows(IllegalArgumentException.class, () -> noToken.withTransport(
                new ListenAddress.Tcp("127.0.0.1", 7000), new TcpSecurity.InsecurePlaintext()));
        assertDoesNotThrow(() -> noToken.withTransport(new ListenAddress.Tcp("0.0.0.0", 7000), MTLS));
    }

    @Test
    void tlsOptionsOnAUnixSocketAreRefusedNotIgnored() {
        String m = refusal(WITH_TOKEN, new ListenAddress.Unix(Path.of("/tmp/forkd-rules/s.sock")), TLS);
        assertTrue(m.contains("Unix socket"), m);
    }
}
