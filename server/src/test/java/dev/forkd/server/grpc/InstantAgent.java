package dev.forkd.server.grpc;

import dev.forkd.server.process.AgentPool;
import dev.forkd.server.process.AgentPort;
import dev.forkd.server.process.ProcessTable;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * For in-process service tests that only validate: an agent that reports every start as running
 * with a made-up pid, every signal as the exit it causes, and every stdin write as done. No OS
 * process is involved.
 */
final class InstantAgent implements AgentPort {

    private final ScheduledExecutorService exec;
    private ProcessTable table;

    private InstantAgent(ScheduledExecutorService exec) {
        this.exec = exec;
    }

    /** A process table whose every process runs on an instant agent. */
    static ProcessTable table(ScheduledExecutorService timers) {
        return table(timers, ProcessTable.ChildSessions.NONE, 1000);
    }

    /** The same, with the sessions each run gets and a process limit. */
    static ProcessTable table(ScheduledExecutorService timers, ProcessTable.ChildSessions sessions, int maxProcesses) {
        InstantAgent agent = new InstantAgent(timers);
        AgentPool agents = (onAgent, onFailure) -> onAgent.accept(agent);
        agent.table = new ProcessTable(agents, pgid -> {}, sessions, timers, Clock.systemUTC(), () -> 0.5, maxProcesses);
        return agent.table;
    }

    @Override
    public String agentId() {
        return "a-test";
    }

    @Override
    public void start(StartCommand c) {
        exec.execute(() -> table.onStarted(c.processId(), c.run(), 4242));
    }

    @Override
    public void signal(String processId, int run, int signal) {
        exec.execute(() -> table.onExited(processId, run, -signal));
    }

    @Override
    public void holdOutput(String processId, int run, boolean hold) {}

    @Override
    public void writeStdin(String processId, int run, byte[] data, boolean close) {
        exec.execute(() -> table.onStdinWritten(processId, run, data.length, close, Optional.empty()));
    }
}
