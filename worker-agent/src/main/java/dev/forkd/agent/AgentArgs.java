package dev.forkd.agent;

import java.util.Map;

/** The agent's command line: {@code --supervisor ADDRESS --agent-id ID --capacity N}, token from the environment. */
record AgentArgs(String supervisor, String agentId, int capacity, String token) {
    static final String TOKEN_ENV = "FORKD_AGENT_TOKEN";
    static final String USAGE = "usage: AgentMain --supervisor unix:/path/forkd.sock|host:port --agent-id ID"
            + " --capacity N   (env " + TOKEN_ENV + "=<secret>)";

    static AgentArgs parse(String[] args, Map<String, String> env) {
        String supervisor = null;
        String agentId = null;
        Integer capacity = null;
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + name);
            }
            String value = args[++i];
            switch (name) {
                case "--supervisor" -> supervisor = value;
                case "--agent-id" -> agentId = value;
                case "--capacity" -> capacity = parseCapacity(value);
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
        String token = env.getOrDefault(TOKEN_ENV, "");
        if (token.isEmpty()) {
            throw new IllegalArgumentException(TOKEN_ENV + " is not set");
        }
        return new AgentArgs(supervisor, agentId, capacity, token);
    }

    private static int parseCapacity(String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("--capacity must be a positive integer, not \"" + value + "\"");
    }
}
