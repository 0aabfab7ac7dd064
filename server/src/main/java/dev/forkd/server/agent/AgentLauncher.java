package dev.forkd.server.agent;

import dev.forkd.posix.Posix;
import dev.forkd.posix.ProcChildren;
import dev.forkd.posix.SpawnException;
import dev.forkd.posix.SpawnSpec;
import dev.forkd.posix.WaitResult;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Forks the worker-agent processes, each with its own secret on an inherited pipe, reaps them
 * (and kills and reaps any orphan of theirs that reparents to the supervisor, a child subreaper),
 * and replaces an agent that dies, with back-off if they keep dying. Agents an earlier supervisor
 * launched and that outlived it are adopted: watched through a pidfd, replaced likewise when they end.
 */
public final class AgentLauncher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AgentLauncher.class.getName());

    /**
     * How to start one agent JVM. {@code channelToken} opens the agent channel; it reaches the
     * agents on an inherited pipe with each one's own secret, never through their environment.
     */
    public record AgentCommand(String javaPath, String classPath, String supervisorAddress,
            String channelToken, int capacity, Map<String, String> environment, Duration heartbeat,
            Duration orphanGrace) {

        /** How long an agent whose supervisor went away keeps its children and dials back, by default. */
        public static final Duration DEFAULT_ORPHAN_GRACE = Duration.ofMinutes(5);

        /** This JVM's java and class path: the agent ships in the same distribution. */
        public static AgentCommand ofThisJvm(String supervisorAddress, String channelToken, int capacity,
                Duration heartbeat) {
            return ofThisJvm(supervisorAddress, channelToken, capacity, heartbeat, DEFAULT_ORPHAN_GRACE);
        }

        /** {@link #ofThisJvm(String, String, int, Duration)} with agents that outlive the supervisor by {@code orphanGrace}. */
        public static AgentCommand ofThisJvm(String supervisorAddress, String channelToken, int capacity,
                Duration heartbeat, Duration orphanGrace) {
            String java = ProcessHandle.current().info().command().orElse("java");
            return new AgentCommand(java, System.getProperty("java.class.path"), supervisorAddress,
                    channelToken, capacity, System.getenv(), heartbeat, orphanGrace);
        }

        @Override
        public String toString() {
            return "AgentCommand[" + supervisorAddress + ", capacity " + capacity + "]";
        }
    }

    private final Posix posix;
    private final AgentCommand command;
    private final AgentCredentials credentials;
    private final AgentRecords records;
    private final int count;
    private final BiConsumer<String, String> onAgentExited;
    private final ScheduledExecutorService timers;
    private final Map<Integer, Launched> byPid = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger();
    private final AtomicInteger quickDeaths = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition spawned = lock.newCondition();
    private final Condition reaped = lock.newCondition();
    private final Thread reaper;
    private AdoptedAgentWatch adoptedWatch;
    private volatile boolean closing;

    /** @param adopted launched by an earlier supervisor: not our child, watched through a pidfd */
    private record Launched(String agentId, int pid, long startedNanos, boolean adopted) {}

    /** @param onAgentExited called with (agent id, cause) when an agent process ends */
    public AgentLauncher(Posix posix, AgentCommand command, AgentCredentials credentials, int count,
            BiConsumer<String, String> onAgentExited, ScheduledExecutorService timers) {
        this(posix, command, credentials, new AgentRecords(dev.forkd.server.store.StateStore.none()), count,
                onAgentExited, timers);
    }

    /** Keeping the agents it launches in {@code records}, for the next supervisor to adopt. */
    public AgentLauncher(Posix posix, AgentCommand command, AgentCredentials credentials, AgentRecords records,
            int count, BiConsumer<String, String> onAgentExited, ScheduledExecutorService timers) {
        this.posix = posix;
        this.command = command;
        this.credentials = credentials;
        this.records = records;
        this.count = count;
        this.onAgentExited = onAgentExited;
        this.timers = timers;
        this.reaper = Thread.ofPlatform().name("forkd-reaper").daemon().unstarted(this::reapLoop);
    }

    /** Becomes the subreaper, starts the reaper and launches all agents. */
    public void start() throws SpawnException {
        start(count);
    }

    /** Becomes the subreaper, starts the reaper and launches {@code launches} agents (the rest are adopted). */
    public void start(int launches) throws SpawnException {
        posix.becomeChildSubreaper();
        reaper.start();
        for (int i = 0; i < launches; i++) {
            launch();
        }
    }

    /**
     * Adopts the agents an earlier supervisor launched that still run: each may register with its
     * secret, and its end is seen through a pidfd. New agent ids continue after the highest kept one.
     *
     * @return the ids of the agents adopted
     */
    public List<String> adopt(List<dev.forkd.agent.v1.StoredAgent> alive) {
        List<String> adopted = new ArrayList<>();
        for (var agent : alive) {
            nextId.accumulateAndGet(idNumber(agent.getAgentId()), Math::max);
        }
        for (var agent : alive) {
            if (adoptedWatch == null) {
                adoptedWatch = new AdoptedAgentWatch(posix);
            }
            Launched l = new Launched(agent.getAgentId(), agent.getPid(), System.nanoTime(), true);
            credentials.adopt(l.agentId(), l.pid(), agent.getSecretSha256().toByteArray());
            byPid.put(l.pid(), l);
            if (adoptedWatch.watch(l.pid(), () -> adoptedExited(l))) {
                adopted.add(l.agentId());
                LOG.info(() -> "adopted agent " + l.agentId() + " (pid " + l.pid() + ") from the previous supervisor");
            } else {
                byPid.remove(l.pid(), l);
                credentials.forget(l.agentId());
                records.ended(l.agentId());
            }
        }
        return adopted;
    }

    private static int idNumber(String agentId) {
        try {
            return Integer.parseInt(agentId.substring(agentId.indexOf('-') + 1));
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private void adoptedExited(Launched agent) {
        lock.lock();
        try {
            byPid.remove(agent.pid(), agent);
            reaped.signalAll();
        } finally {
            lock.unlock();
        }
        // Its exit status went to whoever is its parent now: only that it ended is known here.
        ended(agent, "ended");
    }

    public List<Integer> agentPids() {
        return new ArrayList<>(byPid.keySet());
    }

    /** True while no agent process is left. */
    public boolean allExited() {
        return byPid.isEmpty();
    }

    private void launch() throws SpawnException {
        String agentId = "a-" + nextId.incrementAndGet();
        List<String> argv = List.of(command.javaPath(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-XX:+UseSerialGC", "-Xss512k",
                "-Xshare:auto", "-Xmx256m", "-Xmn16m", "-XX:+ExitOnOutOfMemoryError",
                "-cp", command.classPath(), "dev.forkd.agent.AgentMain",
                "--supervisor", command.supervisorAddress(), "--agent-id", agentId,
                "--capacity", Integer.toString(command.capacity()),
                "--secret-fd", Integer.toString(SpawnSpec.SECRET_TARGET_FD),
                "--heartbeat-millis", Long.toString(command.heartbeat().toMillis()),
                "--orphan-grace-millis", Long.toString(Math.min(Integer.MAX_VALUE, command.orphanGrace().toMillis())));
        List<String> env = new ArrayList<>();
        // An older supervisor put the agent token here: never pass one on.
        command.environment().forEach((k, v) -> {
            if (!k.equals("FORKD_AGENT_TOKEN")) {
                env.add(k + "=" + v);
            }
        });
        String secret = credentials.newSecret();
        int[] pipe = posix.pipe();
        try {
            lock.lock();
            try {
                // Own process group: a Ctrl-C at the supervisor's terminal reaches the supervisor,
                // which then stops the agents in order.
                int pid = posix.spawn(new SpawnSpec(command.javaPath(), argv, env, Optional.empty(),
                        -1, 1, 2, SpawnSpec.Grouping.NEW_PROCESS_GROUP, pipe[0]));
                credentials.expect(agentId, pid, secret);
                records.launched(agentId, pid, secret);
                byPid.put(pid, new Launched(agentId, pid, System.nanoTime(), false));
                spawned.signalAll();
                LOG.info(() -> "launched agent " + agentId + " (pid " + pid + ")");
            } finally {
                lock.unlock();
            }
            handOver(pipe[1], command.channelToken() + "\n" + secret + "\n");
        } finally {
            posix.close(pipe[0]);
            posix.close(pipe[1]);
        }
    }

    /** Writes the agent's secrets into its pipe (far below a pipe's buffer: never blocks). */
    private void handOver(int fd, String secrets) throws SpawnException {
        byte[] bytes = secrets.getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
            int written = 0;
            while (written < bytes.length) {
                written += posix.write(fd, buf.asSlice(written), bytes.length - written);
            }
        } catch (IOException e) {
            throw new SpawnException(SpawnException.Kind.OTHER, 0,
                    "cannot hand the agent its secret: " + e.getMessage());
        }
    }

    /**
     * Kills the agent process with this id (SIGKILL: a stopped agent can never resume and act).
     * Its exit is then handled like any agent's: lost, replaced.
     */
    public void kill(String agentId) {
        for (Launched l : byPid.values()) {
            if (l.agentId().equals(agentId)) {
                posix.kill(l.pid(), 9);
            }
        }
    }

    private void reapLoop() {
        while (true) {
            Optional<WaitResult> r = posix.waitAnyChild();
            if (r.isEmpty()) {
                lock.lock();
                try {
                    // No child at all: wait for the next launch (never a poll), or end when closed.
                    while (byPid.isEmpty()) {
                        if (closing) {
                            return;
                        }
                        spawned.awaitUninterruptibly();
                    }
                } finally {
                    lock.unlock();
                }
                continue;
            }
            Launched agent;
            lock.lock();
            try {
                agent = byPid.remove(r.get().pid());
                reaped.signalAll();
            } finally {
                lock.unlock();
            }
            // An exit is what reparents orphans to us: a dead agent's children, or what an
            // orphan we killed had started. They belong to no live agent: kill them.
            killOrphans();
            if (agent == null) {
                continue; // an adopted orphan, now reaped
            }
            int code = r.get().exitCode();
            ended(agent, code >= 0 ? "exited with code " + code : "was killed by signal " + (-code));
        }
    }

    /** An agent process ended: forgotten, reported, and replaced unless the server is stopping. */
    private void ended(Launched agent, String cause) {
        credentials.forget(agent.agentId());
        records.ended(agent.agentId());
        LOG.info(() -> "agent " + agent.agentId() + " (pid " + agent.pid() + ") " + cause);
        try {
            onAgentExited.accept(agent.agentId(), cause);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "handling the exit of agent " + agent.agentId(), e);
        }
        if (!closing) {
            replace(agent);
        }
    }

    /**
     * SIGKILL to every child of the supervisor that is not an agent and not in the supervisor's
     * session: the descendants of agents' children (each child is started in a session of its
     * own) orphaned by an agent's death. Anything else this JVM started stays untouched.
     */
    private void killOrphans() {
        int self = posix.getpid();
        int mySession = ProcChildren.sessionOf(self);
        for (int pid : ProcChildren.ofLeader(self)) {
            if (!byPid.containsKey(pid) && ProcChildren.sessionOf(pid) != mySession) {
                if (ProcChildren.groupOf(pid) == pid) {
                    posix.kill(-pid, 9);
                }
                posix.kill(pid, 9);
            }
        }
    }

    private void replace(Launched dead) {
        long livedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - dead.startedNanos());
        int deaths = livedMillis < 5_000 ? quickDeaths.incrementAndGet() : quickDeaths.getAndSet(0) * 0;
        // An agent that keeps dying at once is retried with back-off, not in a hot loop.
        long delay = deaths <= 1 ? 0 : Math.min(30_000, 250L << Math.min(7, deaths - 2));
        timers.schedule(() -> {
            if (closing) {
                return;
            }
            try {
                launch();
            } catch (SpawnException e) {
                LOG.log(Level.SEVERE, "cannot launch a replacement agent", e);
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** From now on a dead agent is not replaced (the server is stopping). */
    public void stopReplacing() {
        closing = true;
    }

    /**
     * The supervisor exits leaving its agents and their children for the next one ({@code
     * --restart-keep}): nothing is killed or replaced from now on, and their records stay kept.
     */
    public void leaveAgents() {
        closing = true;
        if (adoptedWatch != null) {
            adoptedWatch.close();
        }
    }

    /** Stops replacing agents; SIGKILLs any agent process still alive (after a graceful stop). */
    @Override
    public void close() {
        closing = true;
        for (Launched l : byPid.values()) {
            posix.kill(-l.pid(), 9);
        }
        // The adopted agents' watch stays: awaitAllExited waits for their ends through it.
        lock.lock();
        try {
            spawned.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits (bounded) until every agent process has been reaped. */
    public boolean awaitAllExited(Duration limit) throws InterruptedException {
        long left = limit.toNanos();
        lock.lock();
        try {
            while (!byPid.isEmpty()) {
                if (left <= 0) {
                    return false;
                }
                left = reaped.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
