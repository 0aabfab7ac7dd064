package dev.forkd.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.forkd.posix.Posix;
import dev.forkd.posix.ProgramResolver;
import dev.forkd.posix.SpawnException;
import dev.forkd.posix.SpawnSpec;
import dev.forkd.agent.v1.AgentMessage;
import dev.forkd.agent.v1.ChildStartFailed;
import dev.forkd.agent.v1.ChildStarted;
import dev.forkd.agent.v1.StartChild;
import dev.forkd.agent.v1.StartFailure;

/** Starts a child for a StartChild command and answers ChildStarted or ChildStartFailed. */
final class ChildLauncher {
    static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

    private final Posix posix;
    private final ChildTable table;
    private final OutputPump pump;
    private final Reaper reaper;
    private final SupervisorLink link;
    private final ChildLimits limits = new ChildLimits();

    ChildLauncher(Posix posix, ChildTable table, OutputPump pump, Reaper reaper, SupervisorLink link) {
        this.posix = posix;
        this.table = table;
        this.pump = pump;
        this.reaper = reaper;
        this.link = link;
    }

    void start(StartChild command) {
        ChildKey key = new ChildKey(command.getProcessId(), command.getRun());
        try {
            startOrThrow(key, command);
        } catch (StartRefused refused) {
            link.send(AgentMessage.newBuilder().setStartFailed(ChildStartFailed.newBuilder()
                    .setProcessId(key.processId()).setRun(key.run())
                    .setReason(refused.reason).setMessage(refused.getMessage())).build());
        }
    }

    private void startOrThrow(ChildKey key, StartChild command) throws StartRefused {
        if (command.getArgvCount() == 0) {
            throw new StartRefused(StartFailure.START_FAILURE_OTHER, "argv is empty");
        }
        String argv0 = command.getArgv(0);
        String searchPath = command.getEnvMap().getOrDefault("PATH", DEFAULT_PATH);
        String program = ProgramResolver.resolve(argv0, searchPath).orElseThrow(() -> new StartRefused(
                StartFailure.START_FAILURE_NOT_FOUND, "program \"" + argv0 + "\" not found in PATH"));
        Optional<String> cwd = command.getCwd().isEmpty() ? Optional.empty() : Optional.of(command.getCwd());
        checkRoom(key);

        List<int[]> pipes = new ArrayList<>(3);
        try {
            int[] out = open(pipes);
            int[] err = open(pipes);
            int[] in = command.getStdinPipe() ? open(pipes) : new int[] {-1, -1};
            posix.setNonBlocking(out[0]);
            // A stdout pipe of one chunk lets each read take a whole chunk (the default 64 KiB pipe
            // caps every read, and so every message, at 64 KiB). Still a bound: a child whose reader
            // is slow blocks once it is full. stderr keeps the default: it is rarely bulk.
            posix.setPipeSize(out[0], OutputPump.CHUNK);
            posix.setNonBlocking(err[0]);
            if (in[1] >= 0) {
                posix.setNonBlocking(in[1]);
            }
            ChildLimits.Launch launch = launch(program, command);
            SpawnSpec spec = new SpawnSpec(launch.path(), launch.argv(), environment(command.getEnvMap()), cwd,
                    in[0], out[1], err[1], SpawnSpec.Grouping.NEW_SESSION);
            // Spawned under the table lock: the reaper looks pids up in the table, and the pump must
            // get Watch before the reaper's Exit, and ChildStarted must precede every ChildOutput.
            synchronized (table) {
                checkRoom(key);
                int pid = spawn(spec, argv0);
                Child child = new Child(key, pid, out[0], err[0], in[1]);
                table.add(child);
                link.send(AgentMessage.newBuilder().setStarted(ChildStarted.newBuilder()
                        .setProcessId(key.processId()).setRun(key.run()).setPid(pid)).build());
                pump.watch(child);
                reaper.childSpawned();
            }
            // The child has its own copies now; ours must go so the pump sees EOF when it exits.
            closeQuietly(out[1], err[1], in[0]);
        } catch (StartRefused e) {
            pipes.forEach(p -> closeQuietly(p[0], p[1]));
            throw e;
        }
    }

    private ChildLimits.Launch launch(String program, StartChild command) throws StartRefused {
        try {
            return limits.launch(program, command.getArgvList(), command.getLimits(), command.getCgroupProcsList());
        } catch (IllegalStateException e) {
            throw new StartRefused(StartFailure.START_FAILURE_RESOURCES, e.getMessage());
        }
    }

    private void checkRoom(ChildKey key) throws StartRefused {
        if (table.isClosed()) {
            throw new StartRefused(StartFailure.START_FAILURE_RESOURCES, "agent is shutting down");
        }
        if (table.isFull()) {
            throw new StartRefused(StartFailure.START_FAILURE_RESOURCES,
                    "agent is at its capacity of " + table.capacity() + " children");
        }
        if (table.contains(key)) {
            throw new StartRefused(StartFailure.START_FAILURE_OTHER, key + " is already running");
        }
    }

    private int[] open(List<int[]> opened) throws StartRefused {
        try {
            int[] pipe = posix.pipe();
            opened.add(pipe);
            return pipe;
        } catch (IllegalStateException e) {
            throw new StartRefused(StartFailure.START_FAILURE_RESOURCES, e.getMessage());
        }
    }

    private int spawn(SpawnSpec spec, String argv0) throws StartRefused {
        try {
            return posix.spawn(spec);
        } catch (SpawnException e) {
            throw switch (e.kind()) {
                case NOT_FOUND -> new StartRefused(StartFailure.START_FAILURE_NOT_FOUND,
                        "program \"" + argv0 + "\" not found (" + spec.path() + ")");
                case NOT_EXECUTABLE -> new StartRefused(StartFailure.START_FAILURE_NOT_EXECUTABLE,
                        "\"" + spec.path() + "\" is not executable");
                case BAD_CWD -> new StartRefused(StartFailure.START_FAILURE_BAD_CWD,
                        "cwd \"" + spec.cwd().orElse("") + "\" is not a directory");
                case RESOURCES -> new StartRefused(StartFailure.START_FAILURE_RESOURCES, e.getMessage());
                case OTHER -> new StartRefused(StartFailure.START_FAILURE_OTHER, e.getMessage());
            };
        }
    }

    private static List<String> environment(Map<String, String> env) {
        List<String> entries = new ArrayList<>(env.size());
        env.forEach((k, v) -> entries.add(k + "=" + v));
        return entries;
    }

    private void closeQuietly(int... fds) {
        for (int fd : fds) {
            if (fd >= 0) {
                posix.close(fd);
            }
        }
    }

    /** Why a start was refused, as the supervisor will see it. */
    private static final class StartRefused extends Exception {
        final StartFailure reason;

        StartRefused(StartFailure reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }
    }
}
