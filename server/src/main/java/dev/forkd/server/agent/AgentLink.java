package dev.forkd.server.agent;

import com.google.protobuf.ByteString;
import dev.forkd.server.process.AgentPort;
import dev.forkd.v1.SignalChild;
import dev.forkd.v1.StartChild;
import dev.forkd.v1.SupervisorMessage;
import dev.forkd.v1.WriteChildStdin;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** One registered agent, as the process core sees it: commands go down its stream. */
public final class AgentLink implements AgentPort {

    private final String agentId;
    private final int pid;
    private final int capacity;
    private final Consumer<SupervisorMessage> stream;
    private final AtomicInteger running = new AtomicInteger();

    /** @param stream sends one message down the agent's stream; must be safe to call from any thread */
    public AgentLink(String agentId, int pid, int capacity, Consumer<SupervisorMessage> stream) {
        this.agentId = agentId;
        this.pid = pid;
        this.capacity = capacity;
        this.stream = stream;
    }

    @Override
    public String agentId() {
        return agentId;
    }

    public int pid() {
        return pid;
    }

    public int capacity() {
        return capacity;
    }

    /** Children started and not yet ended: the load used to pick an agent. */
    public int running() {
        return running.get();
    }

    void childEnded() {
        running.updateAndGet(n -> Math.max(0, n - 1));
    }

    @Override
    public void start(StartCommand c) {
        running.incrementAndGet();
        StartChild.Builder b = StartChild.newBuilder()
                .setProcessId(c.processId())
                .setRun(c.run())
                .addAllArgv(c.argv())
                .putAllEnv(c.env())
                .setStdinPipe(c.stdinPipe());
        c.cwd().ifPresent(b::setCwd);
        stream.accept(SupervisorMessage.newBuilder().setStart(b).build());
    }

    @Override
    public void signal(String processId, int run, int signal) {
        stream.accept(SupervisorMessage.newBuilder().setSignal(SignalChild.newBuilder()
                .setProcessId(processId).setRun(run).setSignal(signal)).build());
    }

    @Override
    public void writeStdin(String processId, int run, byte[] data, boolean close) {
        stream.accept(SupervisorMessage.newBuilder().setStdin(WriteChildStdin.newBuilder()
                .setProcessId(processId).setRun(run).setData(ByteString.copyFrom(data))
                .setClose(close)).build());
    }

    @Override
    public void holdOutput(String processId, int run, boolean hold) {
        stream.accept(SupervisorMessage.newBuilder().setHoldOutput(dev.forkd.v1.HoldOutput.newBuilder()
                .setProcessId(processId).setRun(run).setHold(hold)).build());
    }

    /** Asks the agent to stop its children and exit. */
    public void shutdown(int graceMillis) {
        stream.accept(SupervisorMessage.newBuilder().setShutdown(
                dev.forkd.v1.AgentShutdown.newBuilder().setGraceMillis(graceMillis)).build());
    }
}
