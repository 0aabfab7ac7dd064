package dev.forkd.address;

import java.nio.file.Path;

/**
 * Where the server listens ({@code forkd serve --listen}), or where a client dials ({@code --address},
 * {@code FORKD_ADDRESS}): a Unix socket path or a TCP host and port. Both sides parse it with these
 * rules.
 */
public sealed interface ListenAddress {

    /** A Unix domain socket; the default, private to the user by directory permissions. */
    record Unix(Path path) implements ListenAddress {
        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    /** TCP; the server requires TLS (or explicit plaintext on loopback) and a client credential for it. */
    record Tcp(String host, int port) implements ListenAddress {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /**
     * Parses {@code unix:/path}, {@code unix:///path}, an absolute path, {@code host:port} or
     * {@code [v6]:port}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static ListenAddress parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("address is empty");
        }
        String s = text.strip();
        if (s.startsWith("unix://")) {
            return unixPath(s.substring("unix://".length()), text);
        }
        if (s.startsWith("unix:")) {
            return unixPath(s.substring("unix:".length()), text);
        }
        if (s.startsWith("/")) {
            return unixPath(s, text);
        }
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException(
                    "address \"" + text + "\" is neither unix:/path nor host:port");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address \"" + text + "\" has a bad port");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("address \"" + text + "\": port out of range");
        }
        return new Tcp(host, port);
    }

    private static ListenAddress unixPath(String path, String original) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException(
                    "unix address \"" + original + "\" needs an absolute path");
        }
        return new Unix(Path.of(path));
    }
}
