package dev.forkd.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How {@link Forkd#connect(ConnectOptions)} finds and authenticates to a server. Whatever is not set
 * here comes from the environment the way the {@code forkd} command reads it: {@code FORKD_ADDRESS}
 * (else the default socket), {@code FORKD_TOKEN}, {@code FORKD_TLS_CA}/{@code _CERT}/{@code _KEY},
 * and {@code FORKD_SESSION} (set in every forkd child: its own session, used instead of opening one).
 *
 * @param address {@code unix:/path} or {@code host:port}
 * @param token the bearer token itself
 * @param tokenFile a file holding the token; must be private to its owner
 * @param tls TLS for TCP; empty takes the {@code FORKD_TLS_*} variables
 * @param sessionCredential an existing session to act as, instead of opening one
 * @param sessionName the name of the session opened (shown in listings)
 * @param sessionTtl how long the session outlives a silent client
 * @param callTimeout the limit of a call that should answer at once
 * @param env the environment to read; the process's own by default
 */
public record ConnectOptions(Optional<String> address, Optional<String> token, Optional<Path> tokenFile,
        Optional<ClientTls> tls, Optional<String> sessionCredential, String sessionName, Duration sessionTtl,
        Duration callTimeout, Map<String, String> env) {

    public ConnectOptions {
        env = Map.copyOf(env);
    }

    /** Everything from the process's environment. */
    public static ConnectOptions fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** Everything from {@code env}. */
    public static ConnectOptions fromEnvironment(Map<String, String> env) {
        return new ConnectOptions(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), "java-client", Duration.ofSeconds(10), Duration.ofSeconds(30), env);
    }

    public ConnectOptions withAddress(String address) {
        return new ConnectOptions(Optional.of(address), token, tokenFile, tls, sessionCredential, sessionName,
                sessionTtl, callTimeout, env);
    }

    public ConnectOptions withToken(String token) {
        return new ConnectOptions(address, Optional.of(token), tokenFile, tls, sessionCredential, sessionName,
                sessionTtl, callTimeout, env);
    }

    public ConnectOptions withTokenFile(Path file) {
        return new ConnectOptions(address, token, Optional.of(file), tls, sessionCredential, sessionName,
                sessionTtl, callTimeout, env);
    }

    public ConnectOptions withTls(ClientTls tls) {
        return new ConnectOptions(address, token, tokenFile, Optional.of(tls), sessionCredential, sessionName,
                sessionTtl, callTimeout, env);
    }

    public ConnectOptions withSessionName(String name) {
        return new ConnectOptions(address, token, tokenFile, tls, sessionCredential, name, sessionTtl,
                callTimeout, env);
    }

    public ConnectOptions withSessionTtl(Duration ttl) {
        return new ConnectOptions(address, token, tokenFile, tls, sessionCredential, sessionName, ttl,
                callTimeout, env);
    }

    public ConnectOptions withCallTimeout(Duration timeout) {
        return new ConnectOptions(address, token, tokenFile, tls, sessionCredential, sessionName, sessionTtl,
                timeout, env);
    }

    /** The server to dial: the address given, else {@code FORKD_ADDRESS}, else the default socket. */
    public ServerTarget target() {
        return ServerTarget.resolve(address, env);
    }

    /** The token to send: the one given, else the token file's, else {@code FORKD_TOKEN}. */
    public Optional<String> resolvedToken() {
        if (token.isPresent()) {
            return token;
        }
        if (tokenFile.isPresent()) {
            try {
                return Optional.of(SecretFiles.readSecret(tokenFile.get(), "token file")).filter(s -> !s.isEmpty());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot use token file " + tokenFile.get() + ": " + e.getMessage(), e);
            }
        }
        return nonBlank("FORKD_TOKEN");
    }

    /** TLS as given, else from {@code FORKD_TLS_CA}, {@code FORKD_TLS_CERT} and {@code FORKD_TLS_KEY}. */
    public ClientTls resolvedTls() {
        return tls.orElseGet(() -> new ClientTls(nonBlank("FORKD_TLS_CA").map(Path::of),
                nonBlank("FORKD_TLS_CERT").map(Path::of), nonBlank("FORKD_TLS_KEY").map(Path::of)));
    }

    /** The session to act as instead of opening one: the one given, else {@code FORKD_SESSION}. */
    public Optional<String> resolvedSession() {
        return sessionCredential.or(() -> nonBlank("FORKD_SESSION"));
    }

    private Optional<String> nonBlank(String name) {
        return Optional.ofNullable(env.get(name)).map(String::strip).filter(s -> !s.isEmpty());
    }
}
