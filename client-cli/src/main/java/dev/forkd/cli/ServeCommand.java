package dev.forkd.cli;

import dev.forkd.client.ServerLauncher;
import dev.forkd.server.ForkdServer;
import dev.forkd.server.RestartSettings;
import dev.forkd.server.agent.AgentLiveness;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.config.StoreConfig;
import dev.forkd.server.store.StateDirectory;
import dev.forkd.server.config.TcpSecurity;
import dev.forkd.server.programs.ConfigError;
import dev.forkd.server.programs.ProgramConfig;
import dev.forkd.server.metrics.MetricsEndpoint;
import dev.forkd.server.metrics.MetricsSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.ParentCommand;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {
            "Run the server (supervisor and worker-agents) in the foreground.",
            "SIGTERM or Ctrl-C stops it: its children get SIGTERM, then SIGKILL after a grace.",
            "SIGHUP never stops it: it reopens the log file (for logrotate) and logs that it did, and"
                    + " with --config applies the config file again, as `forkd reload` does.",
            "",
            "The default Unix socket lives in a directory only you may enter (refused if it is anyone"
                    + " else's or open to group or others); the socket is made 0600.",
            "TCP needs TLS (--tls-cert, --tls-key) and a client credential (--token-file, or client"
                    + " certificates with --tls-client-ca); plaintext only with --insecure-plaintext, on loopback."
                    + " Token and key files must be private to their owner (chmod 600).",
            "",
            "Children's environment: what their spawner sent, plus FORKD_ADDRESS and forkd's other FORKD_*"
                    + " variables, plus PATH=/usr/local/bin:/usr/bin:/bin if the spawner sent no PATH (none with"
                    + " clean_env). This server's own environment is NOT passed on to children."
        })
final class ServeCommand implements Callable<Integer> {

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Option(names = "--listen", paramLabel = "ADDR",
            description = "unix:/path or host:port (default: the private socket under $XDG_RUNTIME_DIR/forkd).")
    String listen;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the token clients must send (mode 600); TCP needs it unless --tls-client-ca.")
    Path tokenFile;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "TCP: the server's certificate chain (PEM) (default: $FORKD_TLS_CERT).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "TCP: its private key (PEM, PKCS#8, mode 600) (default: $FORKD_TLS_KEY).")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "FILE",
            description = "TCP: require client certificates signed by this CA (mTLS); such a client is an admin"
                    + " (default: $FORKD_TLS_CLIENT_CA).")
    Path tlsClientCa;

    @Option(names = "--insecure-plaintext",
            description = "TCP without TLS: only on a loopback address, never on a network.")
    boolean insecurePlaintext;

    @Option(names = "--health-listen", paramLabel = "HOST:PORT",
            description = "Also serve the gRPC health service alone, plaintext and without credentials, here"
                    + " (for a Kubernetes gRPC probe, which speaks no TLS); it tells only whether forkd is serving.")
    String healthListen;

    @Option(names = "--metrics-listen", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics (text format, /metrics) here, e.g. 127.0.0.1:9464. Only a"
                    + " loopback address, unless the server has TLS: then any address, over HTTPS with the same"
                    + " certificate.")
    String metricsListen;

    @Option(names = "--metrics-per-resource-labels", paramLabel = "N", defaultValue = "0",
            description = "Give the first N queues and locks (by name) a metric series of their own; the rest are"
                    + " summed under queue=\"_other\" (default 0: totals only, so names never grow Prometheus).")
    int metricsPerResourceLabels;

    @Option(names = "--agents", paramLabel = "N", description = "How many worker-agents to run (default 1).")
    Integer agents;

    @Option(names = "--memory-budget", paramLabel = "SIZE",
            description = "The most bytes the server holds for clients in all: output kept, queue items, pipe"
                    + " buffers, shared state, stdin in flight (e.g. 512MiB; default: half the heap, -Xmx)."
                    + " Past it, new work is refused with RESOURCE_EXHAUSTED (MEMORY_BUDGET_EXHAUSTED) and"
                    + " output logs drop their oldest bytes.")
    String memoryBudget;

    @Option(names = "--agent-heartbeat", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How often each worker-agent sends a heartbeat, and how often silence is checked"
                    + " (e.g. 500ms; default 1s; at most 1m).")
    Duration agentHeartbeat;

    @Option(names = "--agent-lost-after", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How long an agent may be silent (stopped, hung) before it is declared lost: its"
                    + " children become LOST and a replacement starts (default 10s; at least twice"
                    + " --agent-heartbeat, at most 1h).")
    Duration agentLostAfter;

    @Option(names = "--log-file", paramLabel = "FILE",
            description = "Append the log to FILE and reopen it on SIGHUP (default: stderr; a file stderr"
                    + " was sent to is reopened on SIGHUP too).")
    Path logFile;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Keep state across restarts here: shared values, durable queues, locks' fencing"
                    + " counter... (see README, \"Restarts and durability\"). Default: $XDG_STATE_HOME/forkd, else"
                    + " ~/.local/state/forkd. `none` keeps nothing. One server per state directory.")
    String stateDir;

    @Option(names = "--cgroup", paramLabel = "DIR",
            description = "The cgroup v2 directory delegated to forkd, for memory_max, cpu_max and pids_max"
                    + " (default: its own cgroup where delegated, e.g. by systemd's Delegate=yes; else cgroup v1)."
                    + " forkd moves itself into DIR/supervisor, enables memory, cpu and pids in"
                    + " DIR/cgroup.subtree_control and makes its processes' cgroups in DIR/forkd-*.")
    Path cgroup;

    @Option(names = "--fresh",
            description = "Start empty: discard what the last server kept in the state directory, and say what.")
    boolean fresh;

    @Option(names = "--orphan-grace", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How long a worker-agent whose supervisor went away (crashed, or stopped with"
                    + " --restart-keep) keeps its children and dials back for the next one, before it stops"
                    + " them (default 5m; 0 stops them at once; at most 7d).")
    Duration orphanGrace;

    @Option(names = "--agent-return-wait", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "At start, how long to wait for the agents of the previous supervisor on this state"
                    + " directory to come back; processes no agent reports by then are LOST (default 10s).")
    Duration agentReturnWait;

    @Option(names = "--restart-keep",
            description = "SIGTERM or Ctrl-C exits leaving the agents and children running, for the next"
                    + " `forkd serve` on the same state directory to adopt (see README, \"Restarts and durability\").")
    boolean restartKeep;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Programs to run, declared in TOML ([program.NAME] tables; see README, \"Declared"
                    + " programs\"). Started once the server runs; `forkd reload` or SIGHUP applies the file again.")
    Path configFile;

    @Override
    public Integer call() throws InterruptedException {
        Invocation inv = main.invocation();
        if (configFile != null) { // its [server] settings fill in the options not given here
            ServeConfigFile.fill(this, spec.commandLine().getParseResult(), inv.cwd().resolve(configFile));
        }
        ServerConfig config = config(inv);
        MetricsSettings metrics = metrics(config);
        AgentLiveness.Settings liveness = liveness();
        RestartSettings restart = restartSettings();
        ForkdServer server;
        try {
            ServeLog log = ServeLog.open(config.logFile());
            log.handleHangup();
            Optional<Path> programs = Optional.ofNullable(configFile).map(f -> inv.cwd().resolve(f).toAbsolutePath());
            programs.ifPresent(ServeCommand::checkConfig); // refused before anything starts
            server = ForkdServer.start(config, liveness, metrics, restart);
            if (programs.isPresent()) {
                ServePrograms.start(server, programs.get());
                log.onHangup(() -> ServePrograms.reload(server));
            }
        } catch (IOException e) {
            throw new CliFailure("cannot serve on " + config.listen() + ": " + e.getMessage(), ExitCodes.ERROR, e);
        }
        ForkdServer serving = server;
        Thread stop = new Thread(restartKeep ? serving::closeLeavingChildren : serving::close, "forkd-shutdown");
        Runtime.getRuntime().addShutdownHook(stop);
        inv.out().println(ServerLauncher.READY_LINE + server.address());
        inv.out().flush();
        server.awaitTermination();
        // A stop a client asked for (forkd shutdown) runs on a thread of its own: exit once it is done.
        server.awaitStopped(config.shutdownGrace().plusSeconds(60));
        try {
            Runtime.getRuntime().removeShutdownHook(stop);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is running
        }
        return ExitCodes.OK;
    }

    private static void checkConfig(Path file) {
        try {
            ProgramConfig.parse(Files.readString(file));
        } catch (IOException e) {
            throw new CliFailure("--config " + file + ": cannot read it: " + e.getMessage(), ExitCodes.USAGE, e);
        } catch (ConfigError e) {
            throw new CliFailure("--config " + file + ": " + e.getMessage(), ExitCodes.USAGE, e);
        }
    }

    private ServerConfig config(Invocation inv) {
        try {
            ServerConfig config = ServerConfig.defaults(ForkdPaths.fromEnvironment(inv.env()));
            // The token first: a TCP address is only accepted with one.
            if (tokenFile != null) {
                config = config.withTokenFile(Optional.of(inv.cwd().resolve(tokenFile).toAbsolutePath()));
            }
            if (listen != null) {
                ListenAddress address = ListenAddress.parse(listen);
                config = config.withTransport(address, tcpSecurity(inv, address));
            } else if (tlsCert != null || tlsKey != null || tlsClientCa != null || insecurePlaintext) {
                throw new IllegalArgumentException("--tls-cert, --tls-key, --tls-client-ca and --insecure-plaintext"
                        + " are for a TCP address: give --listen host:port");
            }
            if (healthListen != null) {
                if (!(ListenAddress.parse(healthListen) instanceof ListenAddress.Tcp health)) {
                    throw new IllegalArgumentException("--health-listen takes host:port, not \"" + healthListen + "\"");
                }
                config = config.withHealthListen(Optional.of(health));
            }
            if (agents != null) {
                config = config.withAgents(agents);
            }
            if (memoryBudget != null) {
                config = config.withMemoryBudget(ServerConfig.parseSize(memoryBudget));
            }
            if (logFile != null) {
                config = config.withLogFile(Optional.of(inv.cwd().resolve(logFile).toAbsolutePath()));
            }
            if (cgroup != null) {
                config = config.withCgroup(Optional.of(inv.cwd().resolve(cgroup).toAbsolutePath().normalize()));
            }
            config = config.withStore(store(inv));
            return config.withCli(ServerLauncher.launcher(inv.env()));
        } catch (IllegalArgumentException e) {
            throw new CliFailure(e.getMessage(), ExitCodes.USAGE, e);
        }
    }

    private StoreConfig store(Invocation inv) {
        if ("none".equals(stateDir)) {
            if (fresh) {
                throw new IllegalArgumentException("--fresh discards a state directory's contents; --state-dir none"
                        + " keeps nothing to discard");
            }
            return StoreConfig.OFF;
        }
        Path dir = stateDir != null ? inv.cwd().resolve(stateDir).toAbsolutePath().normalize()
                : StateDirectory.defaultPath(inv.env(), Path.of(Optional.ofNullable(inv.env().get("HOME"))
                        .filter(h -> h.startsWith("/")).orElse(System.getProperty("user.home"))));
        return StoreConfig.in(dir, fresh);
    }

    private MetricsSettings metrics(ServerConfig config) {
        try {
            Optional<ListenAddress.Tcp> at = Optional.empty();
            if (metricsListen != null) {
                if (!(ListenAddress.parse(metricsListen) instanceof ListenAddress.Tcp tcp)) {
                    throw new IllegalArgumentException("--metrics-listen takes host:port, not \"" + metricsListen + "\"");
                }
                MetricsEndpoint.check(tcp, config.tcpSecurity());
                at = Optional.of(tcp);
            }
            return new MetricsSettings(at, metricsPerResourceLabels);
        } catch (IllegalArgumentException e) {
            throw new CliFailure(e.getMessage(), ExitCodes.USAGE, e);
        }
    }

    private RestartSettings restartSettings() {
        RestartSettings d = RestartSettings.DEFAULT;
        try {
            return new RestartSettings(Optional.ofNullable(orphanGrace).orElse(d.orphanGrace()),
                    Optional.ofNullable(agentReturnWait).orElse(d.agentReturnWait()), restartKeep);
        } catch (IllegalArgumentException e) {
            throw new CliFailure("--orphan-grace / --agent-return-wait: " + e.getMessage(), ExitCodes.USAGE, e);
        }
    }

    private AgentLiveness.Settings liveness() {
        AgentLiveness.Settings d = AgentLiveness.Settings.DEFAULT;
        try {
            return new AgentLiveness.Settings(Optional.ofNullable(agentHeartbeat).orElse(d.heartbeat()),
                    Optional.ofNullable(agentLostAfter).orElse(d.deadAfter()));
        } catch (IllegalArgumentException e) {
            throw new CliFailure("--agent-heartbeat / --agent-lost-after: " + e.getMessage(), ExitCodes.USAGE, e);
        }
    }

    /**
     * The flags, else the FORKD_TLS_* variables; the variables only for a TCP address, since an
     * autostarted server inherits its client's environment and always listens on the Unix socket.
     */
    private TcpSecurity tcpSecurity(Invocation inv, ListenAddress address) {
        boolean tcp = address instanceof ListenAddress.Tcp;
        Optional<Path> cert = file(inv, tlsCert, tcp ? "FORKD_TLS_CERT" : null);
        Optional<Path> key = file(inv, tlsKey, tcp ? "FORKD_TLS_KEY" : null);
        Optional<Path> clientCa = file(inv, tlsClientCa, tcp ? "FORKD_TLS_CLIENT_CA" : null);
        if (cert.isPresent() != key.isPresent()) {
            throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
        }
        if (cert.isPresent()) {
            if (insecurePlaintext) {
                throw new IllegalArgumentException("--insecure-plaintext and --tls-cert contradict each other: choose one");
            }
            return new TcpSecurity.Tls(cert.get(), key.get(), clientCa);
        }
        if (clientCa.isPresent()) {
            throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key too");
        }
        return insecurePlaintext ? new TcpSecurity.InsecurePlaintext() : new TcpSecurity.Unset();
    }

    private static Optional<Path> file(Invocation inv, Path flag, String variable) {
        Optional<Path> given = Optional.ofNullable(flag);
        if (given.isEmpty() && variable != null) {
            given = Optional.ofNullable(inv.env().get(variable)).filter(v -> !v.isBlank()).map(Path::of);
        }
        return given.map(p -> inv.cwd().resolve(p).toAbsolutePath());
    }
}
