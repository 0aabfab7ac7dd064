package dev.forkd.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.forkd.server.ForkdServer;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.TcpSecurity;
import dev.forkd.testing.TestCertificates;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.SpawnRequest;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * mTLS against a real server that has a client CA and no token: a client certificate that CA signed
 * is an admin; no certificate, one from another CA, or an expired one gets no connection.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MtlsTest {

    @TempDir
    static Path tmp;

    private static TestCertificates certs;
    private static ForkdServer mtls;
    private static final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        certs = TestCertificates.make(Files.createDirectory(tmp.resolve("certs")));
        mtls = ForkdServer.start(ServerConfig.defaults(new ForkdPaths(tmp.resolve("mtls")))
                .withTransport(new ListenAddress.Tcp("127.0.0.1", 0),
                        new TcpSecurity.Tls(certs.serverCert(), certs.serverKey(), Optional.of(certs.ca()))));
    }

    @AfterAll
    static void stop() {
        channels.forEach(ManagedChannel::shutdownNow);
        if (mtls != null) {
            mtls.close();
        }
    }

    private static ManagedChannel channel(ForkdServer server, ChannelCredentials credentials) {
        ManagedChannel c = Servers.tcp(((ListenAddress.Tcp) server.address()).port(), credentials);
        channels.add(c);
        return c;
    }

    private static ChannelCredentials trusting(Path ca) throws Exception {
        return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
    }

    private static ChannelCredentials withClientCert(Path ca, Path cert, Path key) throws Exception {
        return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).keyManager(cert.toFile(), key.toFile()).build();
    }

    @Test
    void aGoodClientCertificateIsAnAdminWithoutAToken() throws Exception {
        var stub = Servers.processes(channel(mtls, withClientCert(certs.ca(), certs.clientCert(), certs.clientKey())));
        String out = Servers.outputOf(stub, SpawnRequest.newBuilder().addArgv("echo").addArgv("mutual").build());
        assertEquals("mutual\n", out);
    }

    @Test
    void withoutAClientCertificateMtlsRefuses() throws Exception {
        var e = assertThrows(StatusRuntimeException.class, () -> Servers.processes(channel(mtls, trusting(certs.ca())))
                .list(ListProcessesRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e::toString);
    }

    @Test
    void aClientCertificateFromAnotherCaIsRefused() throws Exception {
        var e = assertThrows(StatusRuntimeException.class, () -> Servers.processes(channel(mtls,
                        withClientCert(certs.ca(), certs.otherClientCert(), certs.otherClientKey())))
                .list(ListProcessesRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e::toString);
    }

    @Test
    void anExpiredClientCertificateIsRefused() throws Exception {
        var e = assertThrows(StatusRuntimeException.class, () -> Servers.processes(channel(mtls,
                        withClientCert(certs.ca(), certs.expiredClientCert(), certs.expiredClientKey())))
                .list(ListProcessesRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e::toString);
    }
}
