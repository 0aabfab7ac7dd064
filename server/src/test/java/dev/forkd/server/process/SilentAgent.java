package dev.forkd.server.process;

import dev.forkd.server.error.ForkdException;
import java.util.function.Consumer;

/** An agent that takes every command and answers none: the test reports its events for it. */
record SilentAgent(String agentId) implements AgentPort, AgentPool {
    @Override
    public void start(StartCommand command) {}

    @Override
    public void signal(String processId, int run, int signal) {}

    @Override
    public void holdOutput(String processId, int run, boolean hold) {}

    @Override
    public void writeStdin(String processId, int run, byte[] data, boolean close) {}

    @Override
    public void acquire(Consumer<AgentPort> onAgent, Consumer<ForkdException> onFailure) {
        onAgent.accept(this);
    }
}
