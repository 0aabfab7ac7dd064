package dev.forkd.server.grpc;

import dev.forkd.server.ChildRunner;
import dev.forkd.server.agent.AgentRegistry;
import dev.forkd.server.process.AgentPool;
import dev.forkd.server.process.AgentPort;
import dev.forkd.server.process.ChildSessions;
import dev.forkd.server.process.ProcessTable;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/**
 * For in-process service tests that only validate: an agent that reports every start as running
 * with a made-up pid, every signal as the exit it causes, and every stdin write as done. No OS
 * process is involved.
 */
final class InstantAgent implements AgentPort {

    private final ScheduledExecutorService exec;
    private final Supplier<ProcessTable> table;

    private InstantAgent(ScheduledExecutorService exec, Supplier<ProcessTable> table) {
        this.exec = exec;
        this.table = table;
    }

    /** A process table whose every process runs on an instant agent, for tests of the core alone. */
    static ProcessTable table(ScheduledExecutorService timers) {
        ProcessTable[] table = new ProcessTable[1];
        table[0] = new ProcessTable(pool(timers, () -> table[0]), pgid -> {}, ChildSessions.NONE, timers,
                Clock.systemUTC(), () -> 0.5, 1000);
        return table[0];
    }

    /**
     * Runs the real services' children on an instant agent. Kills no process group: the pids are
     * made up, and a real group with that id may exist on this machine.
     */
    static ChildRunner runner(ScheduledExecutorService timers) {
        return new ChildRunner() {
            @Override
            public AgentPool agents(AgentRegistry registry, Supplier<ProcessTable> table) {
                return pool(timers, table);
            }

            @Override
            public ProcessTable.GroupKiller groupKiller() {
                return pgid -> {};
            }
        };
    }

    private static AgentPool pool(ScheduledExecutorService timers, Supplier<ProcessTable> table) {
        InstantAgent agent = new InstantAgent(timers, table);
        return (onAgent, onFailure) -> onAgent.accept(agent);
    }

    @Override
    public String agentId() {
        return "a-test";
    }

    @Override
    public void start(StartCommand c) {
        exec.execute(() -> table.get().onStarted(c.processId(), c.run(), 4242));
    }

    @Override
    public void signal(String processId, int run, int signal) {
        exec.execute(() -> table.get().onExited(processId, run, -signal));
    }

    @Override
    public void holdOutput(String processId, int run, boolean hold) {}

    @Override
    public void writeStdin(String processId, int run, byte[] data, boolean close) {
        exec.execute(() -> table.get().onStdinWritten(processId, run, data.length, close, Optional.empty()));
    }
}
