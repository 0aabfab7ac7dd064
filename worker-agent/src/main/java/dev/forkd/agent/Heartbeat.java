package dev.forkd.agent;

import dev.forkd.agent.v1.AgentHeartbeat;
import dev.forkd.agent.v1.AgentMessage;

/** Tells the supervisor the agent is alive and how many children it runs. */
final class Heartbeat implements Runnable {
    private final SupervisorLink link;
    private final ChildTable table;

    Heartbeat(SupervisorLink link, ChildTable table) {
        this.link = link;
        this.table = table;
    }

    @Override
    public void run() {
        link.send(AgentMessage.newBuilder()
                .setHeartbeat(AgentHeartbeat.newBuilder().setRunning(table.size())).build());
    }
}
