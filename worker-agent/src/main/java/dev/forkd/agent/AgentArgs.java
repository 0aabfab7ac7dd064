package dev.forkd.agent;

import java.time.Duration;

import dev.forkd.agent.grpc.Redialer;

/**
 * The agent's command line: {@code --supervisor ADDRESS --agent-id ID --capacity N --secret-fd FD
 * [--heartbeat-millis MS] [--orphan-grace-millis MS] [--redial-first-millis MS] [--redial-max-millis MS]};
 * an orphan grace of 0 stops the children as soon as the supervisor's stream ends; the redial
 * delays bound the back-off while orphaned (see {@link Redialer.Backoff}). The secrets come on the inherited fd (see {@link AgentSecrets}), never
 * in the environment or argv, where other processes of the same user could read them.
 */
record AgentArgs(String supervisor, String agentId, int capacity, int secretFd, Duration heartbeat,
        Duration orphanGrace, Redialer.Backoff redial) {
    static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(1);
    /** How long an agent keeps its children and dials again after its supervisor went away. */
    static final Duration DEFAULT_ORPHAN_GRACE = Duration.ofMinutes(5);
    static final String USAGE = "usage: AgentMain --supervisor unix:/path/forkd.sock|host:port --agent-id ID"
            + " --capacity N --secret-fd FD [--heartbeat-millis MS] [--orphan-grace-millis MS]"
            + " [--redial-first-millis MS] [--redial-max-millis MS]   (FD holds two lines: the channel"
            + " token, then this agent's secret)";

    static AgentArgs parse(String[] args) {
        String supervisor = null;
        String agentId = null;
        Integer capacity = null;
        Integer secretFd = null;
        Duration heartbeat = DEFAULT_HEARTBEAT;
        Duration orphanGrace = DEFAULT_ORPHAN_GRACE;
        Duration redialFirst = Redialer.Backoff.DEFAULT.first();
        Duration redialMax = Redialer.Backoff.DEFAULT.max();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + name);
            }
            String value = args[++i];
            switch (name) {
                case "--supervisor" -> supervisor = value;
                case "--agent-id" -> agentId = value;
                case "--capacity" -> capacity = positive(name, value, 1);
                case "--secret-fd" -> secretFd = positive(name, value, 0);
                case "--heartbeat-millis" -> heartbeat = Duration.ofMillis(positive(name, value, 1));
                case "--orphan-grace-millis" -> orphanGrace = Duration.ofMillis(positive(name, value, 0));
                case "--redial-first-millis" -> redialFirst = Duration.ofMillis(positive(name, value, 1));
                case "--redial-max-millis" -> redialMax = Duration.ofMillis(positive(name, value, 1));
                default -> throw new IllegalArgumentException("unknown option " + name);
            }
        }
        if (supervisor == null || supervisor.isBlank()) {
            throw new IllegalArgumentException("--supervisor is required");
        }
        if (agentId == null || agentId.isBlank()) {
            throw new IllegalArgumentException("--agent-id is required");
        }
        if (capacity == null) {
            throw new IllegalArgumentException("--capacity is required");
        }
        if (secretFd == null) {
            throw new IllegalArgumentException("--secret-fd is required");
        }
        if (redialMax.compareTo(redialFirst) < 0) {
            throw new IllegalArgumentException("--redial-max-millis must be at least --redial-first-millis");
        }
        return new AgentArgs(supervisor, agentId, capacity, secretFd, heartbeat, orphanGrace,
                new Redialer.Backoff(redialFirst, redialMax));
    }

    private static int positive(String name, String value, int min) {
        try {
            int n = Integer.parseInt(value);
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be an integer of at least " + min + ", not \"" + value + "\"");
    }
}
