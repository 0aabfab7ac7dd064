package dev.forkd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.address.ListenAddress;
import io.grpc.Status;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConnectTest {

    @Test
    void connectsOverTcpWithTheTokenFromTheEnvironmentOrAFile() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkt");
        Path token = dir.resolve("token");
        Files.writeString(token, "s3cret-s3cret-s3cret\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        try (TestServer server = TestServer.startTcp(token)) {
            Map<String, String> env = new HashMap<>(server.env());
            env.put("FORKD_TOKEN", "s3cret-s3cret-s3cret");
            try (Forkd forkd = Forkd.connect(ConnectOptions.fromEnvironment(env))) {
                assertTrue(forkd.sessionId().isPresent(), "it opened a session of its own");
                assertEquals(1, forkd.value(TestServer.unique("v")).incrementAndGet());
            }
            try (Forkd forkd = Forkd.connect(ConnectOptions.fromEnvironment(server.env()).withTokenFile(token))) {
                forkd.value(TestServer.unique("v")).get();
            }
            env.put("FORKD_TOKEN", "wrong");
            ForkdException e = assertThrows(ForkdException.class, () -> Forkd.connect(ConnectOptions.fromEnvironment(env)));
            assertEquals(Status.Code.UNAUTHENTICATED, e.code());
            assertEquals(dev.forkd.v1.ErrorReason.TOKEN_INVALID, e.reason(), e.toString());
            Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
            UncheckedIOException open = assertThrows(UncheckedIOException.class,
                    () -> Forkd.connect(ConnectOptions.fromEnvironment(server.env()).withTokenFile(token)));
            assertTrue(open.getMessage().contains("chmod 600"), open.getMessage());
        } finally {
            Files.deleteIfExists(token);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void closingEndsTheSessionAndReleasesItsLocks() throws Exception {
        try (TestServer server = TestServer.start(); Forkd keeper = server.connect()) {
            String name = TestServer.unique("lock");
            Forkd holder = server.connect();
            holder.lock(name).lock();
            ForkdLock lock = keeper.lock(name);
            assertFalse(lock.tryLock());
            holder.close();
            long start = System.nanoTime();
            assertTrue(lock.tryLock(30, TimeUnit.SECONDS), "the closed client's lock was released");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "released at close, not when the 10 s lease ran out");
            lock.unlock();
        }
    }

    @Test
    void noServerAtTheAddressIsUnavailable() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "fkn");
        try {
            ForkdException e = assertThrows(ForkdException.class, () -> Forkd.connect(ConnectOptions.fromEnvironment(
                    Map.of("FORKD_ADDRESS", "unix:" + dir.resolve("none.sock"))).withCallTimeout(java.time.Duration.ofSeconds(5))));
            assertEquals(Status.Code.UNAVAILABLE, e.code());
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void theDefaultAddressIsTheSocketUnderARuntimeDirectoryChosenOnPurpose() {
        // A login session's /run/user/N is not used (ForkdPathsTest); one set on purpose is.
        ConnectOptions o = ConnectOptions.fromEnvironment(Map.of("XDG_RUNTIME_DIR", "/tmp/rt-7"));
        assertEquals(new ListenAddress.Unix(Path.of("/tmp/rt-7/forkd/forkd.sock")), o.target().address());
        assertTrue(o.target().isDefault());
        ConnectOptions given = o.withAddress("127.0.0.1:7000");
        assertEquals(new ListenAddress.Tcp("127.0.0.1", 7000), given.target().address());
        assertFalse(given.target().isDefault());
        assertEquals(new ListenAddress.Tcp("::1", 9), ListenAddress.parse("[::1]:9"));
        assertEquals(new ListenAddress.Unix(Path.of("/a/b")), ListenAddress.parse("unix:///a/b"));
        assertEquals(new ListenAddress.Unix(Path.of("/a/b")), ListenAddress.parse("/a/b"));
        assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("unix:relative"));
        assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("host:99999"));
        assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse("nohost"));
    }

    @Test
    void tlsAndSessionSettingsComeFromTheEnvironment() {
        ConnectOptions o = ConnectOptions.fromEnvironment(Map.of("FORKD_TLS_CA", "/ca.pem", "FORKD_SESSION", "cred"));
        assertTrue(o.resolvedTls().enabled());
        assertEquals(java.util.Optional.of(Path.of("/ca.pem")), o.resolvedTls().ca());
        assertEquals(java.util.Optional.of("cred"), o.resolvedSession());
        assertThrows(IllegalArgumentException.class,
                () -> ConnectOptions.fromEnvironment(Map.of("FORKD_TLS_CERT", "/c.pem")).resolvedTls(),
                "a certificate without its key");
    }
}
