package dev.forkd.client;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How a client protects a TCP connection: TLS when any of these is given, plaintext (for a server
 * started with --insecure-plaintext on loopback) when none is. Unix sockets ignore it.
 *
 * @param ca the CA that signed the server's certificate; empty trusts the JDK's default CAs
 * @param cert a client certificate, for a server that requires one (mTLS)
 * @param key that certificate's PEM (PKCS#8) private key; must be private to its owner
 */
public record ClientTls(Optional<Path> ca, Optional<Path> cert, Optional<Path> key) {

    public ClientTls {
        if (cert.isPresent() != key.isPresent()) {
            throw new IllegalArgumentException("a client certificate needs its key and a key its certificate:"
                    + " give both --tls-cert and --tls-key");
        }
    }

    /** Plaintext. */
    public static ClientTls none() {
        return new ClientTls(Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** True when TLS is to be used. */
    public boolean enabled() {
        return ca.isPresent() || cert.isPresent();
    }

    /**
     * The channel credentials.
     *
     * @throws IOException naming the file that cannot be read, or a key file others may read
     */
    ChannelCredentials credentials() throws IOException {
        TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
        if (ca.isPresent()) {
            try {
                b.trustManager(ca.get().toFile());
            } catch (IOException e) {
                throw new IOException("cannot read the TLS CA file " + ca.get() + ": " + e.getMessage(), e);
            }
        }
        if (cert.isPresent()) {
            SecretFiles.requirePrivate(key.get(), "TLS key file");
            try {
                b.keyManager(cert.get().toFile(), key.get().toFile());
            } catch (IOException e) {
                throw new IOException("cannot read the TLS certificate " + cert.get() + " or key " + key.get()
                        + ": " + e.getMessage(), e);
            }
        }
        return b.build();
    }
}
