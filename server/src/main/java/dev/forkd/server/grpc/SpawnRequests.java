package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.limits.CgroupSupport;
import dev.forkd.server.limits.ResourceLimits;
import dev.forkd.server.process.ArgvLimits;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.process.RestartSpec;
import dev.forkd.server.time.Timeout;
import dev.forkd.v1.SpawnRequest;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Checks a SpawnRequest field by field and turns it into a {@link ProcessSpec}, merging the
 * environment. Every rule broken is an INVALID_ARGUMENT that names the field.
 */
final class SpawnRequests {

    static final int MAX_ARGS = 4096;
    static final int MAX_ENV = 4096;
    static final int MAX_LABELS = 64;
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,62}");
    static final Duration MAX_GRACE = Duration.ofHours(1);

    private final Map<String, String> baseEnv;
    private final Map<String, String> forkdEnv;
    private final long defaultOutputLimit;
    private final long maxOutputLimit;
    private final CgroupSupport cgroups;

    /**
     * @param baseEnv what a child's environment starts from unless clean_env: never the server's own
     *     environment (see {@link dev.forkd.server.process.ChildEnvironment})
     * @param forkdEnv variables every child gets (FORKD_ADDRESS, ...), set last; read at each
     *     spawn, since the server fills it once it knows its bound address
     */
    SpawnRequests(Map<String, String> baseEnv, Map<String, String> forkdEnv, long defaultOutputLimit,
            long maxOutputLimit) {
        this(baseEnv, forkdEnv, defaultOutputLimit, maxOutputLimit,
                limits -> java.util.Optional.of("this server makes no cgroups"));
    }

    /** @param cgroups whether the cgroup limits can be honoured here */
    SpawnRequests(Map<String, String> baseEnv, Map<String, String> forkdEnv, long defaultOutputLimit,
            long maxOutputLimit, CgroupSupport cgroups) {
        this.baseEnv = Map.copyOf(baseEnv);
        this.forkdEnv = forkdEnv;
        this.defaultOutputLimit = defaultOutputLimit;
        this.maxOutputLimit = maxOutputLimit;
        this.cgroups = cgroups;
    }

    ProcessSpec toSpec(SpawnRequest r, Optional<String> sessionId) {
        if (r.getArgvCount() == 0) {
            throw new InvalidArgument("argv", "must hold at least the program (argv[0])");
        }
        if (r.getArgv(0).isEmpty()) {
            throw new InvalidArgument("argv[0]", "the program must not be empty");
        }
        if (r.getArgvCount() > MAX_ARGS) {
            throw new InvalidArgument("argv", "at most " + MAX_ARGS + " arguments");
        }
        for (int i = 0; i < r.getArgvCount(); i++) {
            noNul("argv[" + i + "]", r.getArgv(i));
        }
        if (r.getEnvCount() > MAX_ENV) {
            throw new InvalidArgument("env", "at most " + MAX_ENV + " variables, got " + r.getEnvCount());
        }
        for (var e : r.getEnvMap().entrySet()) {
            if (e.getKey().isEmpty() || e.getKey().contains("=")) {
                throw new InvalidArgument("env", "variable name \"" + e.getKey() + "\" must be non-empty and without '='");
            }
            noNul("env[" + e.getKey() + "]", e.getKey() + e.getValue());
        }
        Optional<String> cwd = Optional.empty();
        if (!r.getCwd().isEmpty()) {
            noNul("cwd", r.getCwd());
            if (!r.getCwd().startsWith("/")) {
                throw new InvalidArgument("cwd", "must be an absolute path, got \"" + r.getCwd() + "\"");
            }
            cwd = Optional.of(r.getCwd());
        }
        Optional<String> name = Optional.empty();
        if (!r.getName().isEmpty()) {
            checkName("name", r.getName(), "p");
            name = Optional.of(r.getName());
        }
        if (r.getLabelsCount() > MAX_LABELS) {
            throw new InvalidArgument("labels", "at most " + MAX_LABELS + " labels");
        }
        for (var e : r.getLabelsMap().entrySet()) {
            if (!LABEL_KEY.matcher(e.getKey()).matches()) {
                throw new InvalidArgument("labels", "key \"" + e.getKey() + "\" must be 1-63 of [A-Za-z0-9._/-]");
            }
            if (e.getValue().length() > 256) {
                throw new InvalidArgument("labels", "value of \"" + e.getKey() + "\" is longer than 256");
            }
        }
        Optional<Duration> timeout = Optional.empty();
        if (r.hasTimeout()) {
            Duration t = Protos.duration("timeout", r.getTimeout());
            if (t.isZero()) {
                throw new InvalidArgument("timeout", "must be positive (leave it unset for no limit)");
            }
            timeout = Timeout.limit(t); // a huge one is no limit
        }
        long outputLimit = defaultOutputLimit;
        if (r.getOutputLimitBytes() < 0 || r.getOutputLimitBytes() > maxOutputLimit) {
            throw new InvalidArgument("output_limit_bytes", "must be between 0 (the default, "
                    + defaultOutputLimit + ") and " + maxOutputLimit);
        } else if (r.getOutputLimitBytes() > 0) {
            outputLimit = r.getOutputLimitBytes();
        }
        Duration grace = Duration.ofSeconds(5);
        if (r.hasStopGrace()) {
            grace = Protos.duration("stop_grace", r.getStopGrace());
            if (grace.compareTo(MAX_GRACE) > 0) {
                throw new InvalidArgument("stop_grace", "must be at most 1 h");
            }
        }
        if (r.getDaemon() && sessionId.isEmpty()) {
            throw new InvalidArgument("daemon", "a daemon process needs a session: send the"
                    + " forkd-session header (SessionService.Open)");
        }
        int stdin = r.getStdinModeValue();
        if (stdin < 0 || stdin > 2) {
            throw new InvalidArgument("stdin_mode", "unknown value " + stdin);
        }
        Map<String, String> env = new HashMap<>(r.getCleanEnv() ? Map.of() : baseEnv);
        env.putAll(r.getEnvMap());
        env.putAll(forkdEnv);
        dev.forkd.server.process.ChildEnvironment.putCliOnPath(env);
        // In bytes, on what the child really gets: the limits execve applies.
        ArgvLimits.check(r.getArgvList(), env, "argv", "env");
        return new ProcessSpec(r.getArgvList(), env, cwd, name, r.getLabelsMap(),
                r.getStdinMode() == dev.forkd.v1.StdinMode.STDIN_MODE_PIPE, r.getDaemon(), timeout,
                restart(r), outputLimit, grace, sessionId, r.getHoldOutput(),
                r.hasLimits() ? LimitRequests.from("limits", r.getLimits(), cgroups) : ResourceLimits.NONE);
    }

    private static RestartSpec restart(SpawnRequest r) {
        if (!r.hasRestart()) {
            return RestartSpec.NEVER;
        }
        var s = r.getRestart();
        RestartSpec.Policy policy = switch (s.getPolicy()) {
            case RESTART_POLICY_UNSPECIFIED, RESTART_POLICY_NEVER -> RestartSpec.Policy.NEVER;
            case RESTART_POLICY_ON_FAILURE -> RestartSpec.Policy.ON_FAILURE;
            case RESTART_POLICY_ALWAYS -> RestartSpec.Policy.ALWAYS;
            case UNRECOGNIZED -> throw new InvalidArgument("restart.policy", "unknown value " + s.getPolicyValue());
        };
        Duration initial = s.hasInitialBackoff()
                ? Protos.duration("restart.initial_backoff", s.getInitialBackoff()) : RestartSpec.NEVER.initialBackoff();
        Duration max = s.hasMaxBackoff()
                ? Protos.duration("restart.max_backoff", s.getMaxBackoff()) : RestartSpec.NEVER.maxBackoff();
        Duration window = s.hasWindow() ? Protos.duration("restart.window", s.getWindow()) : RestartSpec.NEVER.window();
        if (initial.isZero() || initial.compareTo(max) > 0) {
            throw new InvalidArgument("restart.initial_backoff", "must be positive and at most max_backoff");
        }
        if (max.compareTo(Duration.ofHours(1)) > 0) {
            throw new InvalidArgument("restart.max_backoff", "must be at most 1 h");
        }
        int maxRestarts = s.getMaxRestarts() == 0 ? RestartSpec.NEVER.maxRestarts() : s.getMaxRestarts();
        if (maxRestarts < 0 || maxRestarts > 10_000) {
            throw new InvalidArgument("restart.max_restarts", "must be between 0 and 10000");
        }
        if (window.isZero()) {
            throw new InvalidArgument("restart.window", "must be positive");
        }
        return new RestartSpec(policy, initial, max, maxRestarts, window);
    }

    private static void noNul(String field, String value) {
        if (value.indexOf('\0') >= 0) {
            throw new InvalidArgument(field, "must not contain a NUL character");
        }
    }

    /**
     * A process's or a pool's name: 1-128 of [A-Za-z0-9._-] starting with a letter or digit, and not
     * one that looks like an id ({@code idPrefix}-N).
     */
    static void checkName(String field, String name, String idPrefix) {
        if (!NAME.matcher(name).matches() || name.matches(idPrefix + "-[0-9]+")) {
            throw new InvalidArgument(field, "must be 1-128 of [A-Za-z0-9._-], start with a letter or digit,"
                    + " and not look like an id (" + idPrefix + "-N)");
        }
    }
}
