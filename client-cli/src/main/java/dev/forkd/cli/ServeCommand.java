package dev.forkd.cli;

import dev.forkd.client.ServerLauncher;
import dev.forkd.server.ForkdServer;
import dev.forkd.server.config.ForkdPaths;
import dev.forkd.server.config.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {
            "Run the server (supervisor and worker-agents) in the foreground.",
            "SIGTERM or Ctrl-C stops it: its children get SIGTERM, then SIGKILL after a grace.",
            "SIGHUP never stops it: it reopens the log file (for logrotate) and logs that it did."
        })
final class ServeCommand implements Callable<Integer> {

    @ParentCommand
    Main main;

    @Option(names = "--listen", paramLabel = "ADDR",
            description = "unix:/path or host:port (default: the private socket under $XDG_RUNTIME_DIR/forkd).")
    String listen;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the token clients must send; required for TCP.")
    Path tokenFile;

    @Option(names = "--agents", paramLabel = "N", description = "How many worker-agents to run (default 1).")
    Integer agents;

    @Option(names = "--memory-budget", paramLabel = "SIZE",
            description = "The most bytes the server holds for clients in all: output kept, queue items, pipe"
                    + " buffers, shared state, stdin in flight (e.g. 512MiB; default: half the heap, -Xmx)."
                    + " Past it, new work is refused with RESOURCE_EXHAUSTED (MEMORY_BUDGET_EXHAUSTED) and"
                    + " output logs drop their oldest bytes.")
    String memoryBudget;

    @Option(names = "--log-file", paramLabel = "FILE",
            description = "Append the log to FILE and reopen it on SIGHUP (default: stderr; a file stderr"
                    + " was sent to is reopened on SIGHUP too).")
    Path logFile;

    @Override
    public Integer call() throws InterruptedException {
        Invocation inv = main.invocation();
        ServerConfig config = config(inv);
        ForkdServer server;
        try {
            ServeLog log = ServeLog.open(config.logFile());
            log.handleHangup();
            server = ForkdServer.start(config);
        } catch (IOException e) {
            throw new CliFailure("cannot serve on " + config.listen() + ": " + e.getMessage(), ExitCodes.ERROR, e);
        }
        Thread stop = new Thread(server::close, "forkd-shutdown");
        Runtime.getRuntime().addShutdownHook(stop);
        inv.out().println(ServerLauncher.READY_LINE + server.address());
        inv.out().flush();
        server.awaitTermination();
        try {
            Runtime.getRuntime().removeShutdownHook(stop);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is running
        }
        return ExitCodes.OK;
    }

    private ServerConfig config(Invocation inv) {
        try {
            ServerConfig config = ServerConfig.defaults(ForkdPaths.fromEnvironment(inv.env()));
            // The token first: a TCP address is only accepted with one.
            if (tokenFile != null) {
                config = config.withTokenFile(Optional.of(inv.cwd().resolve(tokenFile).toAbsolutePath()));
            }
            if (listen != null) {
                config = config.withListen(ListenAddress.parse(listen));
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
            return config;
        } catch (IllegalArgumentException e) {
            throw new CliFailure(e.getMessage(), ExitCodes.USAGE, e);
        }
    }
}
