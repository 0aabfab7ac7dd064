package dev.forkd.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Everything {@code forkd serve} is told.
 *
 * @param listen where clients connect
 * @param tokenFile a file holding the bearer token clients must send; required for TCP
 * @param agents how many worker-agents to keep running
 * @param agentCapacity how many children one agent runs at once
 * @param stateDir where the socket directory, logs and state live
 * @param defaultOutputLimit output kept per process unless the spawn asks for less or more
 * @param maxOutputLimit the most output a spawn may ask to keep
 * @param maxProcesses the most process records kept at once (ended ones count until deleted)
 * @param tcpSecurity TLS or explicit plaintext for a TCP listener; {@link TcpSecurity.Unset} on a
 *     Unix socket
 * @param healthListen a plaintext TCP address serving only the gRPC health service, for probes that
 *     speak neither TLS nor tokens (a Kubernetes gRPC probe)
 */
public record ServerConfig(
        ListenAddress listen,
        Optional<Path> tokenFile,
        int agents,
        int agentCapacity,
        Path stateDir,
        long defaultOutputLimit,
        long maxOutputLimit,
        int maxProcesses,
        TcpSecurity tcpSecurity,
        Optional<ListenAddress.Tcp> healthListen) {

    public static final long MIB = 1024L * 1024L;

    public ServerConfig {
        if (agents < 1 || agents > 64) {
            throw new IllegalArgumentException("agents must be between 1 and 64, got " + agents);
        }
        if (agentCapacity < 1) {
            throw new IllegalArgumentException("agent capacity must be at least 1");
        }
        checkTransport(listen, tokenFile, tcpSecurity);
    }

    /**
     * TCP needs a client credential (a token, or client certificates) and TLS; plaintext only when
     * asked for, and then only on loopback. Refusing to start beats serving a network unprotected.
     */
    private static void checkTransport(ListenAddress listen, Optional<Path> tokenFile, TcpSecurity security) {
        if (!(listen instanceof ListenAddress.Tcp tcp)) {
            if (!(security instanceof TcpSecurity.Unset)) {
                throw new IllegalArgumentException("--tls-cert, --tls-key, --tls-client-ca and --insecure-plaintext"
                        + " are for a TCP address; " + listen + " is a Unix socket");
            }
            return;
        }
        boolean clientCertificates = security instanceof TcpSecurity.Tls tls && tls.mutual();
        if (tokenFile.isEmpty() && !clientCertificates) {
            throw new IllegalArgumentException(
                    "listening on TCP (" + listen + ") needs --token-file (or client certificates with"
                            + " --tls-client-ca): forkd does not serve unauthenticated on a network");
        }
        switch (security) {
            case TcpSecurity.Unset u -> throw new IllegalArgumentException(
                    "listening on TCP (" + listen + ") needs TLS (--tls-cert and --tls-key); plaintext only"
                            + " with --insecure-plaintext, and only on a loopback address");
            case TcpSecurity.InsecurePlaintext p -> {
                if (!TcpSecurity.isLoopback(tcp.host())) {
                    throw new IllegalArgumentException("--insecure-plaintext is only allowed on a loopback"
                            + " address (127.0.0.1, ::1, localhost), not " + tcp.host()
                            + ": use --tls-cert and --tls-key to serve a network");
                }
            }
            case TcpSecurity.Tls t -> { }
        }
    }

    /** The defaults: a private Unix socket, one agent. */
    public static ServerConfig defaults(ForkdPaths paths) {
        return new ServerConfig(
                paths.defaultAddress(), Optional.empty(), 1, 4096, paths.stateDir(),
                16 * MIB, 1024 * MIB, 100_000, new TcpSecurity.Unset(), Optional.empty());
    }

    public ServerConfig withListen(ListenAddress address) {
        return new ServerConfig(address, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, tcpSecurity, healthListen);
    }

    public ServerConfig withTokenFile(Optional<Path> file) {
        return new ServerConfig(listen, file, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, tcpSecurity, healthListen);
    }

    /** Where to listen and how that listener is protected, changed together (each checks the other). */
    public ServerConfig withTransport(ListenAddress address, TcpSecurity security) {
        return new ServerConfig(address, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, security, healthListen);
    }

    /** Also serve the health service alone, in plaintext, at {@code address}. */
    public ServerConfig withHealthListen(Optional<ListenAddress.Tcp> address) {
        return new ServerConfig(listen, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, tcpSecurity, address);
    }

    public ServerConfig withAgents(int count) {
        return new ServerConfig(listen, tokenFile, count, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, tcpSecurity, healthListen);
    }

    /** Grace given to children between SIGTERM and SIGKILL when the server stops. */
    public Duration shutdownGrace() {
        return Duration.ofSeconds(3);
    }
}
