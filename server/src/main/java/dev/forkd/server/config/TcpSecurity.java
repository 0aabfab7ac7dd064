package dev.forkd.server.config;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Optional;

/** How a TCP listener is protected: TLS (optionally requiring client certificates), or nothing. */
public sealed interface TcpSecurity {

    /** Nothing was asked for: a TCP listener is then refused. */
    record Unset() implements TcpSecurity {}

    /**
     * TLS with grpc-java's own support.
     *
     * @param certChain PEM certificate chain the server presents
     * @param privateKey PEM (PKCS#8) private key of that certificate; must be private to its owner
     * @param clientCa when present, every client must present a certificate this CA signed (mTLS),
     *     and such a client is an admin
     */
    record Tls(Path certChain, Path privateKey, Optional<Path> clientCa) implements TcpSecurity {

        /** True when client certificates are required and verified. */
        public boolean mutual() {
            return clientCa.isPresent();
        }
    }

    /** Plaintext, asked for with --insecure-plaintext; only ever on a loopback address. */
    record InsecurePlaintext() implements TcpSecurity {}

    /**
     * True for a host that never leaves this machine: {@code localhost} or a loopback IP literal.
     * Other names are not resolved: a name that resolves to loopback today may not tomorrow.
     */
    public static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            return InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
