package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 11 as a user meets it: a real {@code forkd serve} under umask 000 keeps its socket from
 * another Unix user (nobody: the tests run as root); {@code serve} refuses a directory others may
 * enter and plaintext on a network; the CLI speaks TLS and mTLS from flags and FORKD_TLS_* and
 * refuses a token file others may read; the server's own environment never reaches a child.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SecurityCliTest {

    private static final int NOBODY = 65534;

    private Path tmp;
    private TestCertificates certs;
    private Path token;
    private final String tokenText = "cli-tls-token-" + System.nanoTime();

    @BeforeAll
    void makeCertificates() throws Exception {
        tmp = Files.createTempDirectory(Path.of("/tmp"), "fks");
        certs = TestCertificates.make(Files.createDirectory(tmp.resolve("certs")));
        token = tmp.resolve("token");
        Files.writeString(token, tokenText + "\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    }

    @AfterAll
    void cleanUp() throws Exception {
        RunningServer.deleteTree(tmp);
    }

    private Cli cli() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove("FORKD_ADDRESS");
        env.remove("FORKD_TOKEN");
        env.keySet().removeIf(k -> k.startsWith("FORKD_TLS_"));
        env.put("XDG_RUNTIME_DIR", tmp.toString());
        env.put("XDG_STATE_HOME", tmp.toString());
        return new Cli(env, tmp);
    }

    private Cli cli(Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeIf(k -> k.startsWith("FORKD_"));
        env.put("XDG_RUNTIME_DIR", tmp.toString());
        env.put("XDG_STATE_HOME", tmp.toString());
        env.putAll(extra);
        return new Cli(env, tmp);
    }

    /** Connects to a Unix socket as user nobody; returns what Python said (empty when it connected). */
    private static String connectAsNobody(Path socket) throws Exception {
        Process p = new ProcessBuilder("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                "/usr/bin/python3", "-c",
                "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\nprint('connected')",
                socket.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return out;
    }

    @Test
    void underUmask000TheSocketIsStillPrivateToItsOwner() throws Exception {
        try (RunningServer server = RunningServer.start(
                dir -> List.of("--listen", "unix:" + dir.resolve("run/s.sock")), Map.of(),
                command -> {
                    List<String> wrapped = new ArrayList<>(List.of("sh", "-c", "umask 000; exec \"$@\"", "sh"));
                    wrapped.addAll(command);
                    return wrapped;
                })) {
            Path run = server.dir.resolve("run");
            Path socket = run.resolve("s.sock");
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(run)));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));

            // Open the way to the socket, as a careless parent directory would: only its own mode is left.
            Files.setPosixFilePermissions(server.dir, PosixFilePermissions.fromString("rwx--x--x"));
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx--x--x"));
            String nobody = connectAsNobody(socket);
            assertTrue(nobody.contains("PermissionError"), nobody);

            Cli.Result owner = Cli.against(server).run("run", "--", "id", "-u");
            assertEquals("0\n", owner.out(), owner::toString);
        }
    }

    @Test
    void serveRefusesASocketDirectoryOthersMayEnterOrOwn() throws Exception {
        Path open = Files.createDirectory(tmp.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Cli.Result r = cli().run("serve", "--listen", "unix:" + open.resolve("s.sock"));
        assertEquals(ExitCodes.ERROR, r.code(), r::toString);
        assertTrue(r.err().contains(open.toString()) && r.err().contains("0777"), r::toString);

        Path theirs = Files.createDirectory(tmp.resolve("theirs"));
        Files.setAttribute(theirs, "unix:uid", NOBODY);
        Cli.Result t = cli().run("serve", "--listen", "unix:" + theirs.resolve("s.sock"));
        assertEquals(ExitCodes.ERROR, t.code(), t::toString);
        assertTrue(t.err().contains(theirs.toString()) && t.err().contains("uid " + NOBODY), t::toString);
    }

    @Test
    void serveRefusesPlaintextOnANetworkAndTcpWithoutTls() {
        Cli.Result network = cli().run("serve", "--listen", "0.0.0.0:0", "--token-file", token.toString(),
                "--insecure-plaintext");
        assertEquals(ExitCodes.USAGE, network.code(), network::toString);
        assertTrue(network.err().contains("loopback") && network.err().contains("0.0.0.0"), network::toString);

        Cli.Result noTls = cli().run("serve", "--listen", "127.0.0.1:0", "--token-file", token.toString());
        assertEquals(ExitCodes.USAGE, noTls.code(), noTls::toString);
        assertTrue(noTls.err().contains("--tls-cert") && noTls.err().contains("--insecure-plaintext"), noTls::toString);
    }

    @Test
    void aTokenFileOthersMayReadIsRefusedNamingIt() throws Exception {
        Path shared = tmp.resolve("shared-token");
        Files.writeString(shared, tokenText);
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-r--r--"));
        Cli.Result client = cli().run("ps", "--address", "127.0.0.1:1", "--token-file", shared.toString());
        assertEquals(ExitCodes.USAGE, client.code(), client::toString);
        assertTrue(client.err().contains(shared.toString()) && client.err().contains("0644"), client::toString);

        Cli.Result serve = cli().run("serve", "--listen", "127.0.0.1:0", "--insecure-plaintext",
                "--token-file", shared.toString());
        assertEquals(ExitCodes.ERROR, serve.code(), serve::toString);
        assertTrue(serve.err().contains(shared.toString()) && serve.err().contains("0644"), serve::toString);
    }

    @Test
    void overTlsTheCliChecksTheServerAndSendsItsToken() throws Exception {
        try (RunningServer server = RunningServer.start(dir -> List.of("--listen", "127.0.0.1:0",
                "--tls-cert", certs.serverCert().toString(), "--tls-key", certs.serverKey().toString(),
                "--token-file", token.toString()), Map.of(), c -> c)) {
            String address = server.address();
            Cli.Result flags = cli().run("run", "--address", address, "--tls-ca", certs.ca().toString(),
                    "--token-file", token.toString(), "--", "echo", "over tls");
            assertEquals(0, flags.code(), flags::toString);
            assertEquals("over tls\n", flags.out(), flags::toString);

            Cli.Result env = cli(Map.of("FORKD_ADDRESS", address, "FORKD_TLS_CA", certs.ca().toString(),
                    "FORKD_TOKEN", tokenText)).run("ps", "--all");
            assertEquals(0, env.code(), env::toString);
            assertTrue(env.out().contains("echo 'over tls'"), env::toString);

            Cli.Result wrongCa = cli().run("ps", "--address", address, "--tls-ca", certs.otherCa().toString(),
                    "--token-file", token.toString());
            assertEquals(ExitCodes.UNREACHABLE, wrongCa.code(), wrongCa::toString);

            Cli.Result plaintext = cli().run("ps", "--address", address, "--token-file", token.toString());
            assertNotEquals(0, plaintext.code(), plaintext::toString);

            Cli.Result noToken = cli().run("ps", "--address", address, "--tls-ca", certs.ca().toString());
            assertEquals(ExitCodes.ERROR, noToken.code(), noToken::toString);
            assertTrue(noToken.err().contains("needs a token"), noToken::toString);
        }
    }

    @Test
    void withMtlsTheClientCertificateIsTheCredential() throws Exception {
        try (RunningServer server = RunningServer.start(dir -> List.of("--listen", "127.0.0.1:0",
                "--tls-cert", certs.serverCert().toString(), "--tls-key", certs.serverKey().toString(),
                "--tls-client-ca", certs.ca().toString()), Map.of(), c -> c)) {
            Cli.Result withCert = cli().run("run", "--address", server.address(), "--tls-ca", certs.ca().toString(),
                    "--tls-cert", certs.clientCert().toString(), "--tls-key", certs.clientKey().toString(),
                    "--", "echo", "mutual");
            assertEquals(0, withCert.code(), withCert::toString);
            assertEquals("mutual\n", withCert.out(), withCert::toString);

            Cli.Result without = cli().run("ps", "--address", server.address(), "--tls-ca", certs.ca().toString());
            assertEquals(ExitCodes.UNREACHABLE, without.code(), without::toString);
        }
    }

    @Test
    void theServersOwnEnvironmentNeverReachesAChild() throws Exception {
        String secret = "server-only-secret-" + System.nanoTime();
        try (RunningServer server = RunningServer.start(dir -> List.of("--listen", "unix:" + dir.resolve("s.sock")),
                Map.of("FORKD_TEST_SERVER_SECRET", secret), c -> c)) {
            Cli.Result r = Cli.against(server).run("run", "--", "env");
            assertEquals(0, r.code(), r::toString);
            assertFalse(r.out().contains(secret), r::toString);
            // The caller's environment (its PATH here) is what a child inherits, not the server's.
            assertTrue(r.out().lines().anyMatch(l -> l.equals("PATH=" + System.getenv("PATH"))), r::toString);
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("FORKD_ADDRESS=unix:")), r::toString);
        }
    }
}
