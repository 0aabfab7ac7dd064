package dev.forkd.agent;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.forkd.agent.grpc.Outbound;
import dev.forkd.agent.grpc.Redialer;
import dev.forkd.agent.grpc.SocketWatch;
import dev.forkd.agent.grpc.SupervisorChannel;
import dev.forkd.posix.Epoll;
import dev.forkd.posix.EventFd;
import dev.forkd.posix.Posix;
import dev.forkd.posix.ProcChildren;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.AgentRegister;
import dev.forkd.agent.v1.RunningChild;
import io.grpc.ManagedChannel;

/**
 * The worker-agent process: dials the supervisor, registers, runs children on command, and exits
 * when told to, leaving no child behind. If the supervisor goes away it keeps its children and
 * dials again for the orphan grace (see {@link Redialer}); only then does it stop them and exit.
 *
 * <p>Exit codes: 0 after AgentShutdown or a stream the supervisor completed, 1 when no supervisor
 * came back in time or one refused it, 2 for a bad command line, 70 when an internal thread died.
 */
public final class AgentMain {
    /** How long output may trail a child's exit before its pipes are closed anyway. */
    static final Duration DRAIN_AFTER_EXIT = Duration.ofSeconds(2);
    /** How long to wait for the supervisor to close its side after ours completed. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final System.Logger log = System.getLogger("forkd.agent");
    private final AgentArgs args;

    AgentMain(AgentArgs args) {
        this.args = args;
    }

    public static void main(String[] argv) {
        AgentArgs args;
        try {
            args = AgentArgs.parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("forkd-agent: " + e.getMessage());
            System.err.println(AgentArgs.USAGE);
            System.exit(2);
            return;
        }
        ignoreHangup();
        System.exit(new AgentMain(args).run());
    }

    /**
     * A SIGHUP (to the agent's process group, or from a hung-up terminal) must not end the agent and,
     * with it, every child it runs; the JVM's default would exit. The supervisor decides when it stops.
     */
    private static void ignoreHangup() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sun.misc.SignalHandler.SIG_IGN);
        } catch (IllegalArgumentException e) {
            // the JVM keeps HUP (e.g. under -Xrs): nothing to change
        }
    }

    int run() {
        Posix posix = new Posix();
        AgentSecrets secrets;
        try {
            secrets = AgentSecrets.read(posix, args.secretFd());
        } catch (IOException e) {
            log.log(Level.ERROR, "no secrets from the supervisor: " + e.getMessage());
            return 2;
        }
        // Binding libc functions and loading Netty each take hundreds of milliseconds on a busy
        // machine: do them side by side (agent start to registered has a 500 ms budget).
        Thread.ofPlatform().name("forkd-agent-bind").daemon().start(posix::bindAll);
        ManagedChannel channel = SupervisorChannel.open(args.supervisor());
        // Orphaned descendants reparent to us and are reaped here, never left as zombies elsewhere.
        posix.becomeChildSubreaper();
        ChildTable table = new ChildTable(args.capacity());
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("forkd-agent-timer").daemon().factory());
        EventFd wake = new EventFd(posix);
        Outbound outbound = new Outbound(wake::signal);
        OutputPump pump = new OutputPump(posix, new Epoll(posix), wake, outbound, table, System::nanoTime,
                DRAIN_AFTER_EXIT);
        Escapees escapees = new Escapees(posix, table, timer, ProcChildren::ofLeader, posix.getpid());
        Reaper reaper = new Reaper(posix, table, pump, escapees);
        ChildSignals signals = new ChildSignals(posix, table, timer, escapees);
        AgentStop stop = new AgentStop(signals, outbound);
        CommandDispatcher dispatcher = new CommandDispatcher(
                new ChildLauncher(posix, table, pump, reaper, outbound), signals, pump, stop);

        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("forkd-agent-kill-children")
                .unstarted(signals::killAll));
        Thread.Builder internal = Thread.ofPlatform().daemon().uncaughtExceptionHandler((thread, e) -> {
            log.log(Level.ERROR, thread.getName() + " died; killing all children", e);
            signals.killAll();
            Runtime.getRuntime().halt(70);
        });
        internal.name("forkd-agent-pump").start(pump);
        internal.name("forkd-agent-reaper").start(reaper);

        Optional<SocketWatch> socketWatch = Optional.empty();
        try {
            int pid = posix.getpid();
            String host = hostname();
            Redialer dialer = new Redialer(channel, secrets.channelToken(), outbound, dispatcher,
                    () -> register(pid, host, secrets, table, outbound), timer, args.orphanGrace(), args.redial(),
                    () -> ThreadLocalRandom.current().nextDouble(), stop::isStopping);
            // A new supervisor on the same socket is dialled the moment it binds it.
            socketWatch = SocketWatch.of(args.supervisor(), dialer::socketAppeared);
            dialer.dial();
            // The supervisor declares an agent that falls silent lost: this is how it hears us.
            timer.scheduleAtFixedRate(new Heartbeat(outbound, table), args.heartbeat().toMillis(),
                    args.heartbeat().toMillis(), TimeUnit.MILLISECONDS);

            int exitCode = stop.exitCode().join();
            try {
                dialer.closed().get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                log.log(Level.WARNING, "supervisor did not close the stream within " + CLOSE_WAIT);
            } catch (Exception e) {
                log.log(Level.WARNING, "waiting for the stream to close failed", e);
            }
            return exitCode;
        } finally {
            socketWatch.ifPresent(SocketWatch::close);
            channel.shutdownNow();
        }
    }

    /**
     * The registration, built as it is sent: with the children this agent runs and those whose exit
     * it holds, so that a new supervisor can adopt them (the held events follow it).
     */
    private AgentMessage register(int pid, String host, AgentSecrets secrets, ChildTable table, Outbound outbound) {
        AgentRegister.Builder r = AgentRegister.newBuilder().setAgentId(args.agentId()).setPid(pid).setHost(host)
                .setCapacity(args.capacity()).setSecret(secrets.agentSecret());
        for (Child child : table.all()) {
            r.addRunning(RunningChild.newBuilder().setProcessId(child.key().processId())
                    .setRun(child.key().run()).setPid(child.pid()));
        }
        for (AgentMessage exit : outbound.unconfirmedExits()) {
            r.addRunning(RunningChild.newBuilder().setProcessId(exit.getExited().getProcessId())
                    .setRun(exit.getExited().getRun()));
        }
        return AgentMessage.newBuilder().setRegister(r).build();
    }

    private static String hostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return System.getenv().getOrDefault("HOSTNAME", "localhost");
        }
    }
}
