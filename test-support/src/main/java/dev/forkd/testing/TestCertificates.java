package dev.forkd.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made at test time with the {@code openssl} command (no key is ever committed): a CA,
 * a server certificate for localhost and 127.0.0.1, a client certificate, one from another CA, and
 * an expired one. EC P-256 keys, PKCS#8 PEM, 0600 as openssl writes them.
 */
public record TestCertificates(Path dir) {

    public Path ca() { return dir.resolve("ca.pem"); }
    public Path serverCert() { return dir.resolve("server.pem"); }
    public Path serverKey() { return dir.resolve("server.key"); }
    public Path clientCert() { return dir.resolve("client.pem"); }
    public Path clientKey() { return dir.resolve("client.key"); }
    public Path otherCa() { return dir.resolve("other-ca.pem"); }
    public Path otherClientCert() { return dir.resolve("other-client.pem"); }
    public Path otherClientKey() { return dir.resolve("other-client.key"); }
    public Path expiredClientCert() { return dir.resolve("expired-client.pem"); }
    public Path expiredClientKey() { return dir.resolve("expired-client.key"); }

    public static TestCertificates make(Path dir) throws IOException, InterruptedException {
        TestCertificates c = new TestCertificates(dir);
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                + "extendedKeyUsage=serverAuth\n");
        Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        c.ca("ca");
        c.ca("other-ca");
        c.signed("server", "localhost", "ca", "server.ext", 2);
        c.signed("client", "forkd-admin", "ca", "client.ext", 2);
        c.signed("other-client", "forkd-admin", "other-ca", "client.ext", 2);
        // -days -1: valid until a day before it was issued, so expired from its first moment.
        c.signed("expired-client", "forkd-admin", "ca", "client.ext", -1);
        return c;
    }

    private void ca(String name) throws IOException, InterruptedException {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + name);
    }

    private void signed(String name, String cn, String ca, String ext, int days)
            throws IOException, InterruptedException {
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn);
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                "-days", Integer.toString(days), "-extfile", ext, "-out", name + ".pem");
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }
}
