package dev.forkd.cli;

import dev.forkd.server.programs.ConfigError;
import dev.forkd.server.programs.ProgramConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.ParseResult;

/**
 * {@code forkd serve --config FILE}: the file's {@code [server]} settings fill in the serve options not
 * given on the command line (the command line wins), each as its option would take it; paths in the
 * file are relative to the file's directory. Read once, at start: a reload changes programs only.
 */
final class ServeConfigFile {

    private ServeConfigFile() {}

    /** Reads and checks {@code file} as a whole (programs too), then fills {@code serve}'s unset options. */
    static void fill(ServeCommand serve, ParseResult given, Path file) {
        ProgramConfig config;
        try {
            config = ProgramConfig.parse(Files.readString(file));
        } catch (IOException e) {
            throw new CliFailure("--config " + file + ": cannot read it: " + e.getMessage(), ExitCodes.USAGE, e);
        } catch (ConfigError e) {
            throw new CliFailure("--config " + file + ": " + e.getMessage(), ExitCodes.USAGE, e);
        }
        Path dir = file.toAbsolutePath().getParent();
        for (Map.Entry<String, String> e : config.startSettings().entrySet()) {
            String option = "--" + e.getKey().replace('_', '-');
            if (!given.hasMatchedOption(option)) {
                try {
                    set(serve, e.getKey(), e.getValue(), dir);
                } catch (IllegalArgumentException bad) {
                    throw new CliFailure("--config " + file + ": [server] " + e.getKey() + ": " + bad.getMessage(),
                            ExitCodes.USAGE, bad);
                }
            }
        }
    }

    private static void set(ServeCommand serve, String key, String value, Path dir) {
        switch (key) {
            case "listen" -> serve.listen = value;
            case "token_file" -> serve.tokenFile = dir.resolve(value);
            case "tls_cert" -> serve.tlsCert = dir.resolve(value);
            case "tls_key" -> serve.tlsKey = dir.resolve(value);
            case "tls_client_ca" -> serve.tlsClientCa = dir.resolve(value);
            case "insecure_plaintext" -> serve.insecurePlaintext = Boolean.parseBoolean(value);
            case "health_listen" -> serve.healthListen = value;
            case "metrics_listen" -> serve.metricsListen = value;
            case "metrics_per_resource_labels" -> serve.metricsPerResourceLabels = number(value);
            case "agents" -> serve.agents = number(value);
            case "memory_budget" -> serve.memoryBudget = value;
            case "agent_heartbeat" -> serve.agentHeartbeat = DurationConverter.parse(value);
            case "agent_lost_after" -> serve.agentLostAfter = DurationConverter.parse(value);
            case "orphan_grace" -> serve.orphanGrace = DurationConverter.parse(value);
            case "agent_return_wait" -> serve.agentReturnWait = DurationConverter.parse(value);
            case "restart_keep" -> serve.restartKeep = Boolean.parseBoolean(value);
            case "log_file" -> serve.logFile = dir.resolve(value);
            case "cgroup" -> serve.cgroup = dir.resolve(value);
            case "state_dir" -> serve.stateDir = "none".equals(value) ? value : dir.resolve(value).toString();
            default -> throw new IllegalStateException("a [server] start key without an option: " + key);
        }
    }

    private static int number(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be a whole number that fits an int, got " + value);
        }
    }
}
