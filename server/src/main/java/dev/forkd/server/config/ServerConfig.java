package dev.forkd.server.config;

import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
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
 * @param memoryBudget the most bytes the server holds for clients in all (output, queue items, pipe
 *     buffers, shared state, stdin in flight); {@code --memory-budget}, by default half the heap
 * @param logFile the file {@code forkd serve} writes its log to and reopens on SIGHUP; empty: stderr
 * @param tcpSecurity TLS or explicit plaintext for a TCP listener; {@link TcpSecurity.Unset} on a
 *     Unix socket
 * @param healthListen a plaintext TCP address serving only the gRPC health service, for probes that
 *     speak neither TLS nor tokens (a Kubernetes gRPC probe)
 * @param cli the {@code forkd} launcher that started this server: children get it as
 *     {@code FORKD_CLI} and its directory at the end of their {@code PATH}, so they can call forkd
 * @param store where what must survive a restart is kept, if anywhere ({@code --state-dir}, {@code --fresh})
 * @param cgroup the cgroup v2 directory delegated to forkd ({@code --cgroup}): it moves itself into
 *     {@code <cgroup>/supervisor} and makes its processes' cgroups beside that; empty: its own cgroup
 *     where that is delegated, else cgroup v1
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
        long memoryBudget,
        Optional<Path> logFile,
        TcpSecurity tcpSecurity,
        Optional<ListenAddress.Tcp> healthListen,
        Optional<Path> cli,
        StoreConfig store,
        Optional<Path> cgroup) {

    public static final long MIB = 1024L * 1024L;
    /** Less than this would refuse most work outright. */
    public static final long MIN_MEMORY_BUDGET = 4 * MIB;

    /** Half the heap: the rest is for the server's own objects, gRPC's buffers and garbage. */
    public static long defaultMemoryBudget() {
        return Math.max(MIN_MEMORY_BUDGET, Runtime.getRuntime().maxMemory() / 2);
    }

    public ServerConfig {
        java.util.Objects.requireNonNull(store, "store");
        java.util.Objects.requireNonNull(cgroup, "cgroup");
        if (cgroup.isPresent() && !cgroup.get().isAbsolute()) {
            throw new IllegalArgumentException("--cgroup must be an absolute path, got " + cgroup.get());
        }
        if (agents < 1 || agents > 64) {
            throw new IllegalArgumentException("agents must be between 1 and 64, got " + agents);
        }
        if (agentCapacity < 1) {
            throw new IllegalArgumentException("agent capacity must be at least 1");
        }
        if (memoryBudget < MIN_MEMORY_BUDGET) {
            throw new IllegalArgumentException("--memory-budget must be at least " + MIN_MEMORY_BUDGET / MIB
                    + " MiB, got " + memoryBudget + " bytes");
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
                16 * MIB, 1024 * MIB, 100_000, defaultMemoryBudget(), Optional.empty(),
                new TcpSecurity.Unset(), Optional.empty(), Optional.empty(), StoreConfig.OFF, Optional.empty());
    }

    public ServerConfig withListen(ListenAddress address) {
        return new ServerConfig(address, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, memoryBudget, logFile, tcpSecurity, healthListen, cli, store, cgroup);
    }

    public ServerConfig withTokenFile(Optional<Path> file) {
        return new ServerConfig(listen, file, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, memoryBudget, logFile, tcpSecurity, healthListen, cli, store, cgroup);
    }

    /** Where to listen and how that listener is protected, changed together (each checks the other). */
    public ServerConfig withTransport(ListenAddress address, TcpSecurity security) {
        return new ServerConfig(address, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, memoryBudget, logFile, security, healthListen, cli, store, cgroup);
    }

    /** Also serve the health service alone, in plaintext, at {@code address}. */
    public ServerConfig withHealthListen(Optional<ListenAddress.Tcp> address) {
        return new ServerConfig(listen, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, memoryBudget, logFile, tcpSecurity, address, cli, store, cgroup);
    }

    public ServerConfig withAgents(int count) {
        return new ServerConfig(listen, tokenFile, count, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, memoryBudget, logFile, tcpSecurity, healthListen, cli, store, cgroup);
    }

    public ServerConfig withMemoryBudget(long bytes) {
        return new ServerConfig(listen, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, bytes, logFile, tcpSecurity, healthListen, cli, store, cgroup);
    }

    public ServerConfig withCli(Optional<Path> launcher) {
        return new ServerConfig(listen, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, memoryBudget, logFile, tcpSecurity, healthListen, launcher, store, cgroup);
    }

    public ServerConfig withLogFile(Optional<Path> file) {
        return new ServerConfig(listen, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, memoryBudget, file, tcpSecurity, healthListen, cli, store, cgroup);
    }

    /** Keep state in {@code store}'s directory (or nowhere: {@link StoreConfig#OFF}). */
    public ServerConfig withStore(StoreConfig store) {
        return new ServerConfig(listen, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, memoryBudget, logFile, tcpSecurity, healthListen, cli,
                store, cgroup);
    }

    /** Use the cgroup v2 directory {@code dir} for cgroup limits ({@code --cgroup}). */
    public ServerConfig withCgroup(Optional<Path> dir) {
        return new ServerConfig(listen, tokenFile, agents, agentCapacity, stateDir,
                defaultOutputLimit, maxOutputLimit, maxProcesses, memoryBudget, logFile, tcpSecurity, healthListen, cli,
                store, dir);
    }

    /**
     * A size as {@code --memory-budget} takes it: bytes, or a number with K, M, G (or KiB, MiB, GiB;
     * powers of 1024), e.g. {@code 512MiB}.
     */
    public static long parseSize(String text) {
        String t = text.strip();
        int i = 0;
        while (i < t.length() && Character.isDigit(t.charAt(i))) {
            i++;
        }
        if (i == 0 || i > 18) {
            throw new IllegalArgumentException("a size must be a number of bytes, optionally with K, M or G"
                    + " (e.g. 512MiB), got \"" + text + "\"");
        }
        long n = Long.parseLong(t.substring(0, i));
        long unit = switch (t.substring(i).toUpperCase(java.util.Locale.ROOT)) {
            case "", "B" -> 1;
            case "K", "KB", "KIB" -> 1024;
            case "M", "MB", "MIB" -> MIB;
            case "G", "GB", "GIB" -> 1024 * MIB;
            default -> throw new IllegalArgumentException("a size's unit must be K, M or G (e.g. 512MiB), got \""
                    + text + "\"");
        };
        if (n > Long.MAX_VALUE / unit) {
            throw new IllegalArgumentException("size \"" + text + "\" is too large");
        }
        return n * unit;
    }

    /** Grace given to children between SIGTERM and SIGKILL when the server stops. */
    public Duration shutdownGrace() {
        return Duration.ofSeconds(3);
    }
}
