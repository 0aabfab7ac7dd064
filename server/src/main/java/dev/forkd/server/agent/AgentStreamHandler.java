package dev.forkd.server.agent;

import dev.forkd.server.limits.ProcessCgroups;
import dev.forkd.server.process.AgentPort;
import dev.forkd.server.process.OutputLog;
import dev.forkd.server.process.ProcessRestore;
import dev.forkd.server.process.ProcessTable;
import dev.forkd.server.process.StartError;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentRegister;
import dev.forkd.agent.v1.RegisterAccepted;
import dev.forkd.agent.v1.SupervisorMessage;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.logging.Logger;

/**
 * One agent's stream, seen from the supervisor: the first message registers it, the rest are
 * events routed to the process table. Messages of one stream arrive in order, so a child's output
 * is always recorded before its exit. Every message is a sign of life for {@link AgentLiveness}.
 */
public final class AgentStreamHandler {

    private static final Logger LOG = Logger.getLogger(AgentStreamHandler.class.getName());

    private final AgentRegistry registry;
    private final ProcessTable processes;
    private final AgentLink.Outlet outlet;
    private final Executor executor;
    private final ProcessCgroups cgroups;
    /** Set once registered; read by the start-refusal task too. */
    private volatile AgentLink link;

    /** @param executor runs the refusal of a start the link could not send, off the caller's locks */
    public AgentStreamHandler(AgentRegistry registry, ProcessTable processes, AgentLink.Outlet outlet,
            Executor executor) {
        this(registry, processes, outlet, executor, ProcessCgroups.none("this supervisor makes no cgroups"));
    }

    /** @param cgroups the children's cgroups: made before a start, removed at the exit */
    public AgentStreamHandler(AgentRegistry registry, ProcessTable processes, AgentLink.Outlet outlet,
            Executor executor, ProcessCgroups cgroups) {
        this.cgroups = cgroups;
        this.registry = registry;
        this.processes = processes;
        this.outlet = outlet;
        this.executor = executor;
    }

    /**
     * @throws IllegalArgumentException if the stream does not start with a valid register
     * @throws AgentRegistry.Refused if the registration is not admitted
     */
    public void onMessage(AgentMessage message) {
        if (link == null) {
            if (!message.hasRegister()) {
                throw new IllegalArgumentException("the first message of an agent stream must be register");
            }
            AgentRegister r = message.getRegister();
            if (r.getAgentId().isEmpty()) {
                throw new IllegalArgumentException("register.agent_id is required");
            }
            AgentLink[] self = new AgentLink[1];
            self[0] = new AgentLink(r.getAgentId(), r.getPid(), Math.max(1, r.getCapacity()), outlet,
                    new AgentLink.Refusals() {
                        @Override
                        public void start(AgentPort.StartCommand c, String why) {
                            executor.execute(() -> {
                                processes.onStartFailed(c.processId(), c.run(),
                                        new StartError(StartError.Kind.RESOURCES, why));
                                registry.childEnded(self[0]);
                            });
                        }

                        @Override
                        public void stdin(String processId, int run, String why) {
                            executor.execute(() -> processes.onStdinWritten(processId, run, 0, false,
                                    Optional.of(why)));
                        }
                    }, cgroups);
            registry.register(self[0], r.getSecret(), () -> {
                int adopted = processes.restore().adopt(r.getAgentId(), self[0], r.getRunningList().stream()
                        .map(c -> new ProcessRestore.AdoptedChild(c.getProcessId(), c.getRun(), c.getPid())).toList());
                // Admitted: the agent sends what it held from now on (after a restart: its children's
                // output and exits while no supervisor listened).
                outlet.send(SupervisorMessage.newBuilder().setAccepted(RegisterAccepted.getDefaultInstance()).build());
                return adopted;
            });
            link = self[0];
            LOG.info(() -> "agent " + r.getAgentId() + " registered (pid " + r.getPid() + ")");
            return;
        }
        if (link.isLost()) {
            // Declared lost (silent too long) while its messages were still in flight: its
            // processes are LOST or sent elsewhere, so nothing it says may change them now.
            return;
        }
        registry.liveness().heard(link.agentId());
        if (processes.restore().isPending()) {
            claimRestored(message);
        }
        switch (message.getEventCase()) {
            case STARTED -> {
                var s = message.getStarted();
                processes.onStarted(s.getProcessId(), s.getRun(), s.getPid());
            }
            case START_FAILED -> {
                var f = message.getStartFailed();
                if (processes.onStartFailed(f.getProcessId(), f.getRun(),
                        new StartError(kind(f.getReason()), f.getMessage()))) {
                    registry.childEnded(link);
                }
            }
            case OUTPUT -> {
                var o = message.getOutput();
                OutputLog.Stream s = o.getStream() == dev.forkd.v1.OutputStream.OUTPUT_STREAM_STDERR
                        ? OutputLog.Stream.STDERR : OutputLog.Stream.STDOUT;
                // A view of the parsed message's bytes, not a copy: a ByteString never changes.
                processes.onOutput(o.getProcessId(), o.getRun(), s, o.getData().asReadOnlyByteBuffer(), o.getOffset());
            }
            case EXITED -> {
                var e = message.getExited();
                // Read before the exit is recorded: an OOM kill is part of how the run ended.
                boolean oomKilled = cgroups.ended(e.getProcessId());
                // After the exit is recorded: a start waiting for room may take the slot now. An
                // exit sent again after a restart (applied already) frees nothing.
                if (processes.onExited(e.getProcessId(), e.getRun(), e.getPid(), e.getExitCode(), oomKilled)) {
                    registry.childEnded(link);
                }
            }
            case STDIN_WRITTEN -> {
                var w = message.getStdinWritten();
                processes.onStdinWritten(w.getProcessId(), w.getRun(), w.getBytes(), w.getClosed(),
                        w.getError().isEmpty() ? Optional.empty() : Optional.of(w.getError()));
            }
            case HEARTBEAT, REGISTER, EVENT_NOT_SET -> { }
        }
    }

    /**
     * After a supervisor restart, an event of a run the agent did not list when it registered (it
     * ended as the old supervisor went away, and was sent again) claims the restored record first.
     */
    private void claimRestored(AgentMessage message) {
        String processId;
        int run;
        int pid = 0;
        switch (message.getEventCase()) {
            case STARTED -> {
                processId = message.getStarted().getProcessId();
                run = message.getStarted().getRun();
                pid = message.getStarted().getPid();
            }
            case OUTPUT -> {
                processId = message.getOutput().getProcessId();
                run = message.getOutput().getRun();
            }
            case EXITED -> {
                processId = message.getExited().getProcessId();
                run = message.getExited().getRun();
            }
            default -> {
                return;
            }
        }
        if (processes.restore().claim(processId, run, pid, link.agentId(), link)) {
            registry.childAdopted(link);
        }
    }

    /** The stream can take more: commands that waited go now. */
    public void onReady() {
        if (link != null) {
            link.onReady();
        }
    }

    /** The agent registered here, if it has. */
    public Optional<AgentLink> link() {
        return Optional.ofNullable(link);
    }

    /** The stream ended (agent exited, crashed or disconnected). */
    public void onClosed(String cause) {
        if (link != null) {
            registry.disconnected(link, cause);
        }
    }

    private static StartError.Kind kind(dev.forkd.agent.v1.StartFailure f) {
        return switch (f) {
            case START_FAILURE_NOT_FOUND -> StartError.Kind.NOT_FOUND;
            case START_FAILURE_NOT_EXECUTABLE -> StartError.Kind.NOT_EXECUTABLE;
            case START_FAILURE_BAD_CWD -> StartError.Kind.BAD_CWD;
            case START_FAILURE_RESOURCES -> StartError.Kind.RESOURCES;
            default -> StartError.Kind.OTHER;
        };
    }
}
