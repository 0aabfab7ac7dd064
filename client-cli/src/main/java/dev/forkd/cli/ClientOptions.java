package dev.forkd.cli;

import java.io.IOException;
import java.nio.file.Files;
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

    /** The token to send: the file's content, else {@code FORKD_TOKEN}, else none. */
    Optional<String> token(Invocation inv) {
        if (tokenFile != null) {
            Path file = inv.cwd().resolve(tokenFile);
            try {
                return Optional.of(Files.readString(file).strip()).filter(s -> !s.isEmpty());
            } catch (IOException e) {
                throw new CliFailure("cannot read token file " + file + ": " + e.getMessage(), ExitCodes.USAGE, e);
            }
        }
        return nonBlank(inv.env(), "FORKD_TOKEN");
    }

    Optional<String> session(Invocation inv) {
        return Optional.ofNullable(session).filter(s -> !s.isBlank()).or(() -> nonBlank(inv.env(), "FORKD_SESSION"));
    }

    private static Optional<String> nonBlank(Map<String, String> env, String name) {
        return Optional.ofNullable(env.get(name)).map(String::strip).filter(s -> !s.isEmpty());
    }
}
