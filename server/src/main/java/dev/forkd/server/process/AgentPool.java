package dev.forkd.server.process;

import dev.forkd.server.error.ForkdException;
import java.util.function.Consumer;

/** Hands out an agent to run a child on, waiting (bounded) for one if none is connected yet. */
public interface AgentPool {

    /**
     * Calls {@code onAgent} with the least-loaded connected agent, now or as soon as one registers;
     * calls {@code onFailure} if none comes within the pool's wait limit or its waiting list is full.
     */
    void acquire(Consumer<AgentPort> onAgent, Consumer<ForkdException> onFailure);
}
