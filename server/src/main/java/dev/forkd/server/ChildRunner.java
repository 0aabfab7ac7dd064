package dev.forkd.server;

import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.process.AgentPool;
import dev.forkd.server.process.ProcessTable;
import java.util.function.Supplier;

/**
 * Who runs the children: the worker-agents registered with the supervisor, or, in tests that
 * only exercise the services, a stand-in that runs no OS process at all.
 */
public interface ChildRunner {

    /**
     * The agents the process table starts children on. {@code registry} is where real agents
     * register; {@code table} is the table being built, for a stand-in that reports back to it.
     */
    AgentPool agents(AgentRegistry registry, Supplier<ProcessTable> table);

    /** Kills a process group whose agent is gone. */
    ProcessTable.GroupKiller groupKiller();

    /** The real agents, and {@code killer} for a lost agent's process groups. */
    static ChildRunner registeredAgents(ProcessTable.GroupKiller killer) {
        return new ChildRunner() {
            @Override
            public AgentPool agents(AgentRegistry registry, Supplier<ProcessTable> table) {
                return registry;
            }

            @Override
            public ProcessTable.GroupKiller groupKiller() {
                return killer;
            }
        };
    }
}
