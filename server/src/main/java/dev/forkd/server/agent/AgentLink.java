package dev.forkd.server.agent;

import com.google.protobuf.ByteString;
import dev.forkd.server.limits.ProcessCgroups;
import dev.forkd.server.process.AgentPort;
import dev.forkd.agent.v1.SignalChild;
import dev.forkd.agent.v1.StartChild;
import dev.forkd.agent.v1.SupervisorMessage;
import dev.forkd.agent.v1.WriteChildStdin;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;

/**
 * One registered agent, as the process core sees it: commands go down its stream, within gRPC's
 * flow control. While the agent does not read (it is stopped, hung, or slow), commands wait here,
 * bounded by {@link #MAX_QUEUED} and {@link #MAX_QUEUED_BYTES}; past the bound a start is refused
 * and a stdin write fails (naming the agent); other commands are dropped — a stalled agent is soon declared lost by
 * {@link AgentLiveness}, and its processes' groups are then killed by the supervisor itself.
 */
public final class AgentLink implements AgentPort {

    static final int MAX_QUEUED = 4096;
    static final long MAX_QUEUED_BYTES = 16L << 20;

    /** Told (on the calling thread) of a command the link could not send; must not take the caller's locks. */
    public interface Refusals {
        /** A start that was not sent: it fails (and its slot is freed). */
        void start(StartCommand command, String why);

        /** A stdin write that was not sent: its writer is answered with the error. */
        void stdin(String processId, int run, String why);
    }

    /** The agent's stream, as the link needs it. */
    public interface Outlet {
        /** Whether gRPC would take a message now without buffering past its threshold. */
        boolean isReady();

        /** Sends one message; must be safe to call from any thread. */
        void send(SupervisorMessage message);
    }

    private final String agentId;
    private final int pid;
    private final int capacity;
    private final Outlet outlet;
    private final Refusals refusals;
    private final ProcessCgroups cgroups;
    private final ArrayDeque<SupervisorMessage> queued = new ArrayDeque<>();
    private long queuedBytes;
    /** Slots taken: children reserved, started and not yet ended. Guarded by the registry. */
    private int slotsTaken;
    /** Set once the registry let it go: whatever it still sends is stale and ignored. */
    private volatile boolean lost;

    public AgentLink(String agentId, int pid, int capacity, Outlet outlet, Refusals refusals) {
        this(agentId, pid, capacity, outlet, refusals, ProcessCgroups.none("this agent link makes no cgroups"));
    }

    /** @param cgroups where a child with cgroup limits gets its cgroup, made before it is started */
    public AgentLink(String agentId, int pid, int capacity, Outlet outlet, Refusals refusals,
            ProcessCgroups cgroups) {
        this.cgroups = cgroups;
        this.agentId = agentId;
        this.pid = pid;
        this.capacity = capacity;
        this.outlet = outlet;
        this.refusals = refusals;
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

    /** Children reserved or running: the load used to pick an agent. Registry monitor held. */
    int slotsTaken() {
        return slotsTaken;
    }

    boolean isLost() {
        return lost;
    }

    void markLost() {
        lost = true;
    }

    /** Takes a slot if one is free. Registry monitor held: picking and reserving are one step. */
    boolean tryReserve() {
        if (slotsTaken >= capacity) {
            return false;
        }
        slotsTaken++;
        return true;
    }

    /** A reserved slot was not used, or its child ended. Registry monitor held. */
    void freeSlot() {
        slotsTaken = Math.max(0, slotsTaken - 1);
    }

    @Override
    public void start(StartCommand c) {
        StartChild.Builder b = StartChild.newBuilder()
                .setProcessId(c.processId())
                .setRun(c.run())
                .addAllArgv(c.argv())
                .putAllEnv(c.env())
                .setStdinPipe(c.stdinPipe());
        c.cwd().ifPresent(b::setCwd);
        if (!c.limits().isNone()) {
            b.setLimits(AgentLimits.toProto(c.limits()));
        }
        List<String> cgroupProcs;
        try {
            cgroupProcs = cgroups.prepare(c.processId(), c.limits());
        } catch (IOException | IllegalArgumentException e) {
            refusals.start(c, "cannot make the cgroup for its limits: " + e.getMessage());
            return;
        }
        b.addAllCgroupProcs(cgroupProcs);
        if (!send(SupervisorMessage.newBuilder().setStart(b).build())) {
            refusals.start(c, stalled());
        }
    }

    @Override
    public void signal(String processId, int run, int signal) {
        send(SupervisorMessage.newBuilder().setSignal(SignalChild.newBuilder()
                .setProcessId(processId).setRun(run).setSignal(signal)).build());
    }

    @Override
    public void writeStdin(String processId, int run, byte[] data, boolean close) {
        if (!send(SupervisorMessage.newBuilder().setStdin(WriteChildStdin.newBuilder()
                .setProcessId(processId).setRun(run).setData(ByteString.copyFrom(data))
                .setClose(close)).build())) {
            refusals.stdin(processId, run, stalled());
        }
    }

    private String stalled() {
        return "agent " + agentId + " is not reading its commands (" + MAX_QUEUED + " commands or "
                + (MAX_QUEUED_BYTES >> 20) + " MiB are waiting for it)";
    }

    @Override
    public void holdOutput(String processId, int run, boolean hold) {
        send(SupervisorMessage.newBuilder().setHoldOutput(dev.forkd.agent.v1.HoldOutput.newBuilder()
                .setProcessId(processId).setRun(run).setHold(hold)).build());
    }

    /** Asks the agent to stop its children and exit. */
    public void shutdown(int graceMillis) {
        send(SupervisorMessage.newBuilder().setShutdown(
                dev.forkd.agent.v1.AgentShutdown.newBuilder().setGrace(com.google.protobuf.Duration.newBuilder()
                        .setSeconds(graceMillis / 1000).setNanos((graceMillis % 1000) * 1_000_000))).build());
    }

    /** Commands waiting for the agent to read (for tests and status). */
    public synchronized int queued() {
        return queued.size();
    }

    /** The stream became ready again: send what waited, in order, while it stays ready. */
    public synchronized void onReady() {
        while (!queued.isEmpty() && outlet.isReady()) {
            SupervisorMessage m = queued.pollFirst();
            queuedBytes -= m.getSerializedSize();
            outlet.send(m);
        }
    }

    /** Sends now, or queues within the bound; false if the bound is reached. */
    private synchronized boolean send(SupervisorMessage m) {
        if (queued.isEmpty() && outlet.isReady()) {
            outlet.send(m);
            return true;
        }
        int size = m.getSerializedSize();
        if (queued.size() >= MAX_QUEUED || queuedBytes + size > MAX_QUEUED_BYTES) {
            return false;
        }
        queued.addLast(m);
        queuedBytes += size;
        return true;
    }
}
