package dev.forkd.server.security;

import static dev.forkd.server.testing.ErrorDetails.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.ForkdServer;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.TcpSecurity;
import dev.forkd.testing.TestCertificates;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.SpawnRequest;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TCP with TLS and a token against a real server, with certificates made by openssl at test time: a
 * token over TLS works, a wrong or missing one is UNAUTHENTICATED with a reason, a server certificate
 * from another CA is rejected; health answers without credentials and reflection does not.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class TlsTest {

    private static final String TOKEN = "tls-test-token-0123456789";

    @TempDir
    static Path tmp;

    private static TestCertificates certs;
    private static ForkdServer tls;
    private static final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        certs = TestCertificates.make(Files.createDirectory(tmp.resolve("certs")));
        Path token = Servers.tokenFile(tmp, TOKEN);
        tls = ForkdServer.start(ServerConfig.defaults(new ForkdPaths(tmp.resolve("tls")))
                .withTokenFile(Optional.of(token))
                .withTransport(new ListenAddress.Tcp("127.0.0.1", 0),
                        new TcpSecurity.Tls(certs.serverCert(), certs.serverKey(), Optional.empty()))
                .withHealthListen(Optional.of(new ListenAddress.Tcp("127.0.0.1", 0))));
    }

    @AfterAll
    static void stop() {
        channels.forEach(ManagedChannel::shutdownNow);
        if (tls != null) {
            tls.close();
        }
    }

    private static int port(ForkdServer server) {
        return ((ListenAddress.Tcp) server.address()).port();
    }

    private static ManagedChannel channel(ForkdServer server, ChannelCredentials credentials) {
        ManagedChannel c = Servers.tcp(port(server), credentials);
        channels.add(c);
        return c;
    }

    private static ChannelCredentials trusting(Path ca) throws Exception {
        return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
    }

    @Test
    void aTokenOverTlsWorks() throws Exception {
        var stub = Servers.processes(channel(tls, trusting(certs.ca())), "Bearer " + TOKEN);
        String out = Servers.outputOf(stub, SpawnRequest.newBuilder().addArgv("echo").addArgv("over tls").build());
        assertEquals("over tls\n", out);
    }

    @Test
    void childrenCallBackOnAPrivateUnixSocketNotOverTcp() throws Exception {
        var stub = Servers.processes(channel(tls, trusting(certs.ca())), "Bearer " + TOKEN);
        String address = Servers.outputOf(stub, SpawnRequest.newBuilder().addArgv("sh").addArgv("-c")
                .addArgv("printf %s \"$FORKD_ADDRESS\"").build());
        assertTrue(address.startsWith("unix:"), address);
        Path socket = Path.of(address.substring("unix:".length()));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(socket)));
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(socket.getParent())));
    }

    @Test
    void aWrongTokenIsUnauthenticatedWithItsReason() throws Exception {
        var channel = channel(tls, trusting(certs.ca()));
        var wrong = assertThrows(StatusRuntimeException.class, () -> Servers.processes(channel, "Bearer not-the-token")
                .list(ListProcessesRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode());
        assertEquals("TOKEN_INVALID", reason(wrong));
        assertTrue(!wrong.getStatus().getDescription().contains(TOKEN), "the token is never echoed");

        var missing = assertThrows(StatusRuntimeException.class, () -> Servers.processes(channel)
                .list(ListProcessesRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, missing.getStatus().getCode());
        assertEquals("TOKEN_MISSING", reason(missing));
    }

    @Test
    void healthAnswersWithoutCredentialsAndReflectionDoesNot() throws Exception {
        var channel = channel(tls, trusting(certs.ca()));
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());

        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        var requests = ServerReflectionGrpc.newStub(channel).serverReflectionInfo(new StreamObserver<>() {
            @Override
            public void onNext(ServerReflectionResponse r) {
                ended.complete(new AssertionError("reflection answered without credentials: " + r));
            }

            @Override
            public void onError(Throwable t) {
                ended.complete(t);
            }

            @Override
            public void onCompleted() {
                ended.complete(new AssertionError("reflection completed without credentials"));
            }
        });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        Throwable t = ended.get(30, TimeUnit.SECONDS);
        assertEquals(Status.Code.UNAUTHENTICATED, Status.fromThrowable(t).getCode(), t::toString);
        requests.onCompleted();
    }

    @Test
    void thePlaintextHealthListenerAnswersProbesAndNothingElse() {
        int port = tls.healthAddress().orElseThrow().port();
        var channel = channels(Servers.tcp(port, InsecureChannelCredentials.create()));
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
        var other = assertThrows(StatusRuntimeException.class, () -> Servers.processes(channel, "Bearer " + TOKEN)
                .list(ListProcessesRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNIMPLEMENTED, other.getStatus().getCode(), other::toString);
    }

    private static ManagedChannel channels(ManagedChannel c) {
        channels.add(c);
        return c;
    }

    @Test
    void aServerCertificateFromAnotherCaIsRejected() throws Exception {
        var e = assertThrows(StatusRuntimeException.class, () -> Servers.processes(
                channel(tls, trusting(certs.otherCa())), "Bearer " + TOKEN).list(ListProcessesRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e::toString);
    }

    @Test
    void plaintextToTheTlsPortGetsNowhere() {
        var e = assertThrows(StatusRuntimeException.class, () -> Servers.processes(
                channel(tls, InsecureChannelCredentials.create()), "Bearer " + TOKEN)
                .list(ListProcessesRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e::toString);
    }
}
