package dev.forkd.server.process;

import dev.forkd.server.error.ForkdException;
import java.util.function.Consumer;

/** Hands out an agent to run a child on, waiting (bounded) for one if none is connected yet. */
public interface AgentPool {

    /**
     * Calls {@code onAgent} with a slot reserved on the least-loaded connected agent (picked and
     * reserved in one step), now or as soon as a slot frees (a child ends, or an agent registers);
     * a slot {@code onAgent} does not start a child on is freed when it returns. Calls
     * {@code onFailure} if no slot frees within the pool's wait limit or its waiting list is full.
     */
    void acquire(Consumer<AgentPort> onAgent, Consumer<ForkdException> onFailure);
}
