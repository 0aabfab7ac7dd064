package dev.forkd.server.programs;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.forkd.posix.Signals;
import dev.forkd.server.error.ForkdException;
import dev.forkd.server.limits.ResourceLimits;
import dev.forkd.server.process.ArgvLimits;
import dev.forkd.server.process.RestartSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The serve config file: {@code [server]} settings and {@code [program.NAME]} tables, read and
 * checked as a whole. Any error is a {@link ConfigError} with the line it is on; nothing is half
 * read.
 *
 * @param programs by name, in the order the file declares them
 * @param rssCheckInterval how often max_rss is measured
 * @param startSettings the {@code [server]} keys that {@code forkd serve} options also set (listen,
 *     agents, state_dir...), as text, checked for their TOML type only: serve reads them as it reads its
 *     options (an option given on the command line wins), and they take effect at the server's start
 */
public record ProgramConfig(Map<String, Program> programs, Duration rssCheckInterval,
        Map<String, String> startSettings) {

    /** The {@code [server]} keys read at start, each the name of the {@code forkd serve} option it stands for. */
    public static final Set<String> START_KEYS = Set.of("listen", "token_file", "tls_cert", "tls_key", "tls_client_ca",
            "insecure_plaintext", "health_listen", "metrics_listen", "metrics_per_resource_labels", "agents",
            "memory_budget", "agent_heartbeat", "agent_lost_after", "log_file", "state_dir", "orphan_grace",
            "agent_return_wait", "restart_keep", "cgroup");
    private static final Set<String> START_NUMBERS = Set.of("agents", "metrics_per_resource_labels");
    private static final Set<String> START_FLAGS = Set.of("insecure_plaintext", "restart_keep");

    public ProgramConfig(Map<String, Program> programs, Duration rssCheckInterval) {
        this(programs, rssCheckInterval, Map.of());
    }

    static final Pattern PROGRAM_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
    static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,62}");
    static final int MAX_PROGRAMS = 1000;
    static final int MAX_NUMPROCS = 100;
    static final Duration DEFAULT_RSS_CHECK = Duration.ofSeconds(5);
    private static final Set<String> SERVER_KEYS = union(Set.of("rss_check_interval"), START_KEYS);
    private static final Set<String> PROGRAM_KEYS = Set.of("argv", "env", "cwd", "labels", "restart", "backoff",
            "max_backoff", "max_restarts", "restart_window", "numprocs", "autostart", "depends_on", "stop_signal",
            "stop_grace", "max_rss", "limits");
    private static final Set<String> LIMIT_KEYS = Set.of("open_files", "address_space", "cpu_seconds", "core_size",
            "processes", "memory_max", "cpu_max", "pids_max");
    private static final Pattern DURATION = Pattern.compile("([0-9]+)(ms|s|m|h)");
    private static final Pattern SIZE = Pattern.compile("([0-9]+)([KMGT]?)i?B?");

    public ProgramConfig {
        programs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(programs));
        startSettings = Map.copyOf(startSettings);
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        var all = new java.util.HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }

    /** Reads a whole config file's text. */
    public static ProgramConfig parse(String text) throws ConfigError {
        JsonNode root;
        try {
            root = new TomlMapper().readTree(text);
        } catch (JacksonException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new ConfigError(Math.max(line, 0), "not valid TOML: " + e.getOriginalMessage());
        }
        KeyLines lines = new KeyLines(text);
        try {
            return new Reader(lines).config(root);
        } catch (Invalid e) {
            throw new ConfigError(lines.of(e.path), e.path + ": " + e.getMessage());
        }
    }

    /** A broken rule, at a dotted key path; turned into a {@link ConfigError} with its line. */
    private static final class Invalid extends RuntimeException {
        final String path;

        Invalid(String path, String rule) {
            super(rule, null, false, false);
            this.path = path;
        }
    }

    private record Reader(KeyLines lines) {

        ProgramConfig config(JsonNode root) {
            for (var e : root.properties()) {
                if (!e.getKey().equals("server") && !e.getKey().equals("program")) {
                    throw new Invalid(e.getKey(), "unknown section (expected [server] or [program.NAME])");
                }
            }
            Duration rss = DEFAULT_RSS_CHECK;
            Map<String, String> start = new LinkedHashMap<>();
            JsonNode server = root.path("server");
            if (!server.isMissingNode()) {
                table("server", server, SERVER_KEYS);
                for (String key : START_KEYS) {
                    if (server.has(key)) {
                        start.put(key, startSetting("server." + key, key, server.get(key)));
                    }
                }
                if (server.has("rss_check_interval")) {
                    rss = duration("server.rss_check_interval", server.get("rss_check_interval"));
                    if (rss.compareTo(Duration.ofMillis(100)) < 0) {
                        throw new Invalid("server.rss_check_interval", "must be at least 100ms");
                    }
                }
            }
            Map<String, Program> programs = new LinkedHashMap<>();
            JsonNode declared = root.path("program");
            if (!declared.isMissingNode()) {
                if (!declared.isObject()) {
                    throw new Invalid("program", "must be tables [program.NAME]");
                }
                if (declared.size() > MAX_PROGRAMS) {
                    throw new Invalid("program", "at most " + MAX_PROGRAMS + " programs");
                }
                for (var e : declared.properties()) {
                    programs.put(e.getKey(), program(e.getKey(), e.getValue()));
                }
            }
            dependencies(programs);
            return new ProgramConfig(programs, rss, start);
        }

        private Program program(String name, JsonNode p) {
            String at = "program." + name;
            if (!PROGRAM_NAME.matcher(name).matches()) {
                throw new Invalid(at, "a program name must be 1-64 of [A-Za-z0-9_-], starting with a letter or digit");
            }
            table(at, p, PROGRAM_KEYS);
            List<String> argv = strings(at + ".argv", p.get("argv"));
            if (argv.isEmpty() || argv.get(0).isEmpty()) {
                throw new Invalid(at + ".argv", "is required: the program and its arguments, e.g. [\"sleep\", \"60\"]");
            }
            Map<String, String> env = stringMap(at + ".env", p.get("env"));
            for (String k : env.keySet()) {
                if (k.isEmpty() || k.contains("=")) {
                    throw new Invalid(at + ".env", "variable name \"" + k + "\" must be non-empty and without '='");
                }
            }
            try {
                ArgvLimits.check(argv, env, at + ".argv", at + ".env");
            } catch (ForkdException.InvalidArgument e) {
                throw new Invalid(e.field(), e.rule());
            }
            Optional<String> cwd = Optional.ofNullable(p.get("cwd")).map(n -> string(at + ".cwd", n));
            if (cwd.isPresent() && !cwd.get().startsWith("/")) {
                throw new Invalid(at + ".cwd", "must be an absolute path");
            }
            Map<String, String> labels = stringMap(at + ".labels", p.get("labels"));
            for (var l : labels.entrySet()) {
                if (!LABEL_KEY.matcher(l.getKey()).matches() || l.getValue().length() > 256) {
                    throw new Invalid(at + ".labels", "key \"" + l.getKey() + "\" must be 1-63 of [A-Za-z0-9._/-]"
                            + " and its value at most 256 characters");
                }
                if (l.getKey().equals(Program.LABEL)) {
                    throw new Invalid(at + ".labels", Program.LABEL + " is set by forkd");
                }
            }
            int numprocs = integer(at + ".numprocs", p.get("numprocs"), 1, 1, MAX_NUMPROCS);
            boolean autostart = !p.has("autostart") || bool(at + ".autostart", p.get("autostart"));
            List<String> dependsOn = strings(at + ".depends_on", p.get("depends_on"));
            String stopName = p.has("stop_signal") ? string(at + ".stop_signal", p.get("stop_signal")) : "TERM";
            int stopSignal = Signals.byName(stopName).orElseThrow(() -> new Invalid(at + ".stop_signal",
                    "unknown signal \"" + stopName + "\" (use a name like TERM, INT, QUIT)"));
            Duration grace = p.has("stop_grace") ? duration(at + ".stop_grace", p.get("stop_grace")) : Duration.ofSeconds(5);
            if (grace.compareTo(Duration.ofHours(1)) > 0) {
                throw new Invalid(at + ".stop_grace", "must be at most 1h");
            }
            OptionalLong maxRss = p.has("max_rss") ? OptionalLong.of(size(at + ".max_rss", p.get("max_rss"), 1 << 20))
                    : OptionalLong.empty();
            Map<String, String> mine = new LinkedHashMap<>(labels);
            mine.put(Program.LABEL, name);
            return new Program(name, argv, env, cwd, mine, restart(at, p), numprocs, autostart, dependsOn, stopSignal,
                    grace, maxRss, limits(at + ".limits", p.get("limits")));
        }

        private RestartSpec restart(String at, JsonNode p) {
            String policy = p.has("restart") ? string(at + ".restart", p.get("restart")) : "never";
            RestartSpec.Policy kind = switch (policy) {
                case "never" -> RestartSpec.Policy.NEVER;
                case "on-failure" -> RestartSpec.Policy.ON_FAILURE;
                case "always" -> RestartSpec.Policy.ALWAYS;
                default -> throw new Invalid(at + ".restart", "must be \"never\", \"on-failure\" or \"always\"");
            };
            RestartSpec d = RestartSpec.NEVER;
            Duration initial = p.has("backoff") ? duration(at + ".backoff", p.get("backoff")) : d.initialBackoff();
            Duration max = p.has("max_backoff") ? duration(at + ".max_backoff", p.get("max_backoff")) : d.maxBackoff();
            if (initial.isZero() || initial.compareTo(max) > 0) {
                throw new Invalid(at + ".backoff", "must be positive and at most max_backoff (" + max + ")");
            }
            if (max.compareTo(Duration.ofHours(1)) > 0) {
                throw new Invalid(at + ".max_backoff", "must be at most 1h");
            }
            int maxRestarts = integer(at + ".max_restarts", p.get("max_restarts"), d.maxRestarts(), 0, 10_000);
            Duration window = p.has("restart_window") ? duration(at + ".restart_window", p.get("restart_window")) : d.window();
            if (window.isZero()) {
                throw new Invalid(at + ".restart_window", "must be positive");
            }
            return new RestartSpec(kind, initial, max, maxRestarts, window);
        }

        private ResourceLimits limits(String at, JsonNode l) {
            if (l == null) {
                return ResourceLimits.NONE;
            }
            table(at, l, LIMIT_KEYS);
            return new ResourceLimits(
                    optionalCount(at + ".open_files", l.get("open_files"), 1),
                    l.has("address_space") ? OptionalLong.of(size(at + ".address_space", l.get("address_space"), 1 << 20))
                            : OptionalLong.empty(),
                    optionalCount(at + ".cpu_seconds", l.get("cpu_seconds"), 1),
                    l.has("core_size") ? OptionalLong.of(size(at + ".core_size", l.get("core_size"), 0)) : OptionalLong.empty(),
                    optionalCount(at + ".processes", l.get("processes"), 1),
                    l.has("memory_max") ? OptionalLong.of(size(at + ".memory_max", l.get("memory_max"), 1 << 20))
                            : OptionalLong.empty(),
                    l.has("cpu_max") ? OptionalDouble.of(cpus(at + ".cpu_max", l.get("cpu_max"))) : OptionalDouble.empty(),
                    optionalCount(at + ".pids_max", l.get("pids_max"), 1));
        }

        /** Every dependency is declared, and there is no cycle. */
        private void dependencies(Map<String, Program> programs) {
            for (Program p : programs.values()) {
                for (String dep : p.dependsOn()) {
                    if (!programs.containsKey(dep)) {
                        throw new Invalid("program." + p.name() + ".depends_on", "\"" + dep + "\" is not a declared program");
                    }
                    if (dep.equals(p.name())) {
                        throw new Invalid("program." + p.name() + ".depends_on", "a program cannot depend on itself");
                    }
                }
            }
            try {
                StartOrder.of(programs);
            } catch (StartOrder.Cycle c) {
                throw new Invalid("program." + c.at() + ".depends_on", "dependency cycle " + c.getMessage());
            }
        }

        /** A start setting as the text its serve option takes; its value is checked by serve, as the option's. */
        private static String startSetting(String at, String key, JsonNode n) {
            if (START_NUMBERS.contains(key)) {
                if (!n.isIntegralNumber()) {
                    throw new Invalid(at, "must be a whole number");
                }
                return n.asText();
            }
            if (START_FLAGS.contains(key)) {
                return Boolean.toString(bool(at, n));
            }
            return string(at, n);
        }

        private static void table(String at, JsonNode node, Set<String> keys) {
            if (!node.isObject()) {
                throw new Invalid(at, "must be a table");
            }
            for (var e : node.properties()) {
                if (!keys.contains(e.getKey())) {
                    throw new Invalid(at + "." + e.getKey(), "unknown key (known: " + new java.util.TreeSet<>(keys) + ")");
                }
            }
        }

        private static String string(String at, JsonNode n) {
            if (!n.isTextual()) {
                throw new Invalid(at, "must be a string");
            }
            if (n.asText().indexOf('\0') >= 0) {
                throw new Invalid(at, "must not contain a NUL character");
            }
            return n.asText();
        }

        private static boolean bool(String at, JsonNode n) {
            if (!n.isBoolean()) {
                throw new Invalid(at, "must be true or false");
            }
            return n.asBoolean();
        }

        private static int integer(String at, JsonNode n, int absent, int min, int max) {
            if (n == null) {
                return absent;
            }
            if (!n.isIntegralNumber() || n.asLong() < min || n.asLong() > max) {
                throw new Invalid(at, "must be a whole number from " + min + " to " + max);
            }
            return n.asInt();
        }

        private static OptionalLong optionalCount(String at, JsonNode n, long min) {
            if (n == null) {
                return OptionalLong.empty();
            }
            if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min) {
                throw new Invalid(at, "must be a whole number of at least " + min);
            }
            return OptionalLong.of(n.asLong());
        }

        private static double cpus(String at, JsonNode n) {
            if (!n.isNumber() || !(n.asDouble() >= 0.01 && n.asDouble() <= 1024)) {
                throw new Invalid(at, "must be a number of CPUs from 0.01 to 1024");
            }
            return n.asDouble();
        }

        private static List<String> strings(String at, JsonNode n) {
            if (n == null) {
                return List.of();
            }
            if (!n.isArray()) {
                throw new Invalid(at, "must be an array of strings");
            }
            List<String> out = new ArrayList<>();
            for (JsonNode v : n) {
                out.add(string(at, v));
            }
            return out;
        }

        private static Map<String, String> stringMap(String at, JsonNode n) {
            if (n == null) {
                return Map.of();
            }
            if (!n.isObject()) {
                throw new Invalid(at, "must be a table of strings");
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (var e : n.properties()) {
                out.put(e.getKey(), string(at + "." + e.getKey(), e.getValue()));
            }
            return out;
        }

        private static Duration duration(String at, JsonNode n) {
            Matcher m = DURATION.matcher(n.isTextual() ? n.asText() : "");
            if (!m.matches()) {
                throw new Invalid(at, "must be a duration like \"500ms\", \"5s\", \"2m\" or \"1h\"");
            }
            long v = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(v);
                case "s" -> Duration.ofSeconds(v);
                case "m" -> Duration.ofMinutes(v);
                default -> Duration.ofHours(v);
            };
        }

        /** Bytes: a whole number, or a string like "512M" (K, M, G, T: powers of 1024). */
        private static long size(String at, JsonNode n, long min) {
            long bytes;
            if (n.isIntegralNumber() && n.canConvertToLong()) {
                bytes = n.asLong();
            } else {
                Matcher m = SIZE.matcher(n.isTextual() ? n.asText() : "");
                if (!m.matches() || m.group(1).length() > 12) {
                    throw new Invalid(at, "must be bytes: a number, or a string like \"512M\" or \"2G\"");
                }
                int shift = switch (m.group(2)) {
                    case "K" -> 10;
                    case "M" -> 20;
                    case "G" -> 30;
                    case "T" -> 40;
                    default -> 0;
                };
                bytes = Long.parseLong(m.group(1)) << shift;
            }
            if (bytes < min) {
                throw new Invalid(at, "must be at least " + min + " bytes");
            }
            return bytes;
        }
    }
}
