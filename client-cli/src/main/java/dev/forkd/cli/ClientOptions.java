package dev.forkd.cli;

import dev.forkd.client.ClientTls;
import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import dev.forkd.client.SecretFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The options every client command shares: which server, how to authenticate, how to print. */
public final class ClientOptions {

    @Option(names = "--address", paramLabel = "ADDR",
            description = "Server to talk to: unix:/path or host:port (default: $FORKD_ADDRESS, else the default socket).")
    String address;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the bearer token (default: the token in $FORKD_TOKEN, if set).")
    Path tokenFile;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "TCP over TLS: the CA (PEM) that signed the server's certificate (default: $FORKD_TLS_CA).")
    Path tlsCa;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "TCP over TLS: a client certificate (PEM), for a server that requires one (default: $FORKD_TLS_CERT).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "The client certificate's private key (PEM, PKCS#8, mode 600) (default: $FORKD_TLS_KEY).")
    Path tlsKey;

    @Option(names = "--session", paramLabel = "CREDENTIAL",
            description = "Make calls in the session this credential names, as SessionService.Open gave it"
                    + " (default: $FORKD_SESSION, which every forkd child has). A session's public id, as"
                    + " 'lock status' or 'get' show it, is not a credential.")
    String session;

    @Option(names = "--json", description = "Print results as JSON (protobuf's JSON mapping).")
    boolean json;

    @Option(names = "--no-autostart", description = "Do not start a server when none runs at the default address.")
    boolean noAutostart;

    Optional<String> address() {
        return Optional.ofNullable(address);
    }

    boolean json() {
        return json;
    }

    boolean autostart() {
        return !noAutostart;
    }

    /**
     * The token to send: the file's content, else {@code FORKD_TOKEN}, else none. A token file others
     * may read is refused: whoever reads it acts as you.
     */
    Optional<String> token(Invocation inv) {
        if (tokenFile != null) {
            Path file = inv.cwd().resolve(tokenFile);
            try {
                return Optional.of(SecretFiles.readSecret(file, "token file")).filter(s -> !s.isEmpty());
            } catch (IOException e) {
                throw new CliFailure("cannot use token file " + file + ": " + e.getMessage(), ExitCodes.USAGE, e);
            }
        }
        return nonBlank(inv.env(), "FORKD_TOKEN");
    }

    /** TLS for TCP: each flag, else its {@code FORKD_TLS_*} variable; plaintext when none is given. */
    ClientTls tls(Invocation inv) {
        try {
            return new ClientTls(file(inv, tlsCa, "FORKD_TLS_CA"), file(inv, tlsCert, "FORKD_TLS_CERT"),
                    file(inv, tlsKey, "FORKD_TLS_KEY"));
        } catch (IllegalArgumentException e) {
            throw new CliFailure(e.getMessage(), ExitCodes.USAGE, e);
        }
    }

    /** A client to {@code address} with this command's credentials and TLS, in {@code session} if given. */
    ForkdClient connect(ListenAddress address, Invocation inv, Optional<String> session) {
        return connect(address, inv, session, false);
    }

    /**
     * As {@link #connect(ListenAddress, Invocation, Optional)}; with {@code direct}, unary calls skip
     * grpc's channel ({@link ForkdClient#connectForCommand}).
     */
    ForkdClient connect(ListenAddress address, Invocation inv, Optional<String> session, boolean direct) {
        try {
            return direct ? ForkdClient.connectForCommand(address, token(inv), session, tls(inv))
                    : ForkdClient.connect(address, token(inv), session, tls(inv));
        } catch (IOException e) {
            throw new CliFailure(e.getMessage(), ExitCodes.USAGE, e);
        }
    }

    private static Optional<Path> file(Invocation inv, Path flag, String variable) {
        return Optional.ofNullable(flag).or(() -> nonBlank(inv.env(), variable).map(Path::of))
                .map(p -> inv.cwd().resolve(p));
    }

    Optional<String> session(Invocation inv) {
        return Optional.ofNullable(session).filter(s -> !s.isBlank()).or(() -> nonBlank(inv.env(), "FORKD_SESSION"));
    }

    private static Optional<String> nonBlank(Map<String, String> env, String name) {
        return Optional.ofNullable(env.get(name)).map(String::strip).filter(s -> !s.isEmpty());
    }
}
