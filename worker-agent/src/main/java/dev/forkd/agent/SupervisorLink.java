package dev.forkd.agent;

import dev.forkd.agent.v1.AgentMessage;

/** Where the agent's events go: the stream to the supervisor, seen without its gRPC types. */
public interface SupervisorLink {

    /** Sends one event; never blocks. Events sent after the stream ended are dropped. */
    void send(AgentMessage message);

    /**
     * Whether the stream can take more output now. Output is only read from the children's pipes
     * while this is true, so a slow supervisor slows the children down instead of filling memory.
     * True once the stream has ended, so that output is drained (and dropped) rather than stuck.
     */
    boolean isReady();

    /** Ends the agent's side of the stream; call after the last event. */
    void complete();
}
