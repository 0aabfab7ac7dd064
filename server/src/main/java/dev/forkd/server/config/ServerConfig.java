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
 */
public record ServerConfig(
        ListenAddress listen,
        Optional<Path> tokenFile,
        int agents,
        int agentCapacity,
        Path stateDir,
        long defaultOutputLimit,
        long maxOutputLimit,
        int maxProcesses) {

    public static final long MIB = 1024L * 1024L;

    public ServerConfig {
        if (agents < 1 || agents > 64) {
            throw new IllegalArgumentException("agents must be between 1 and 64, got " + agents);
        }
        if (agentCapacity < 1) {
            throw new IllegalArgumentException("agent capacity must be at least 1");
        }
        if (listen instanceof ListenAddress.Tcp && tokenFile.isEmpty()) {
            throw new IllegalArgumentException(
                    "listening on TCP (" + listen + ") needs --token-file: forkd does not serve"
                            + " unauthenticated on a network");
        }
    }

    /** The defaults: a private Unix socket, one agent. */
    public static ServerConfig defaults(ForkdPaths paths) {
        return new ServerConfig(
                paths.defaultAddress(), Optional.empty(), 1, 4096, paths.stateDir(),
                16 * MIB, 1024 * MIB, 100_000);
    }

    public ServerConfig withListen(ListenAddress address) {
        return new ServerConfig(address, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses);
    }

    public ServerConfig withTokenFile(Optional<Path> file) {
        return new ServerConfig(listen, file, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses);
    }

    public ServerConfig withAgents(int count) {
        return new ServerConfig(listen, tokenFile, count, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses);
    }

    /** Grace given to children between SIGTERM and SIGKILL when the server stops. */
    public Duration shutdownGrace() {
        return Duration.ofSeconds(3);
    }
}
