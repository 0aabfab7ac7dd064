package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.GetProcessRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.SpawnRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Spawns short children (each exits with a code of its own after a moment) and a few long ones.
 * After a restart every child whose spawn was answered is still running, or has ended with its true
 * exit code; none is unknown or LOST.
 */
final class ChildrenWorkload implements RestartWorkload {

    private static final int LONG_CHILDREN = 3;
    private static final int SHORT_KEPT = 12;
    private static final int LONG = -1000;

    private final ForkdClient client;
    private final RestartableServer server;
    private final Random random;
    /** Answered spawns: id → the exit code it will have, or LONG for one that runs on. */
    private final Map<String, Integer> expected = new LinkedHashMap<>();
    private final Map<String, Integer> pids = new LinkedHashMap<>();
    /**
     * Ids whose delete was sent but not answered (the supervisor died meanwhile): the delete may
     * have been applied and stored, so such an id may be gone after the restart.
     */
    private final java.util.Set<String> deleteUnanswered = new java.util.HashSet<>();
    private int spawned;
    private int checks;

    ChildrenWorkload(ForkdClient client, RestartableServer server, long seed) {
        this.client = client;
        this.server = server;
        this.random = new Random(seed);
    }

    @Override
    public String name() {
        return "children";
    }

    private ProcessServiceGrpc.ProcessServiceBlockingStub stub() {
        return client.processes().withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @Override
    public void step() {
        long longOnes = expected.values().stream().filter(v -> v == LONG).count();
        SpawnRequest.Builder spawn = SpawnRequest.newBuilder();
        int code;
        if (longOnes < LONG_CHILDREN) {
            code = LONG;
            spawn.addArgv("sleep").addArgv("1000");
        } else {
            code = random.nextInt(100);
            spawn.addArgv("sh").addArgv("-c").addArgv("sleep 0." + random.nextInt(10) + "; exit " + code);
        }
        ProcessInfo p = stub().spawn(spawn.build()).getProcess();
        spawned++;
        synchronized (this) {
            expected.put(p.getId(), code);
            if (p.hasPid()) {
                pids.put(p.getId(), p.getPid());
                server.remember(p.getPid());
            }
        }
        forgetOldShortOnes();
    }

    /** Keeps the records (and the server's table) small: ended short children beyond a few go. */
    private void forgetOldShortOnes() {
        List<String> shortOnes;
        synchronized (this) {
            shortOnes = expected.entrySet().stream().filter(e -> e.getValue() != LONG).map(Map.Entry::getKey).toList();
        }
        for (int i = 0; i < shortOnes.size() - SHORT_KEPT; i++) {
            String id = shortOnes.get(i);
            ProcessInfo p = stub().get(GetProcessRequest.newBuilder().setName(id).build()).getProcess();
            if (!p.getIsAlive()) {
                synchronized (this) {
                    deleteUnanswered.add(id);
                }
                stub().delete(DeleteProcessRequest.newBuilder().setName(id).build());
                synchronized (this) {
                    expected.remove(id);
                    pids.remove(id);
                    deleteUnanswered.remove(id);
                }
            }
        }
    }

    @Override
    public synchronized List<String> verify(int restart, boolean checked) {
        List<String> problems = new ArrayList<>();
        for (var e : List.copyOf(expected.entrySet())) {
            String id = e.getKey();
            ProcessInfo p;
            try {
                p = stub().get(GetProcessRequest.newBuilder().setName(id).build()).getProcess();
            } catch (StatusRuntimeException x) {
                if (x.getStatus().getCode() == Status.Code.NOT_FOUND) {
                    expected.remove(id);
                    pids.remove(id);
                    if (deleteUnanswered.remove(id)) {
                        continue; // its delete was applied; only the answer was lost with the supervisor
                    }
                    problems.add("restart " + restart + ": " + id + " (spawn answered before the kill) is unknown");
                    continue;
                }
                throw x;
            }
            checks++;
            if (p.hasPid()) {
                server.remember(p.getPid());
            }
            String wrong = wrong(p, e.getValue(), pids.get(id));
            if (wrong != null) {
                problems.add("restart " + restart + ": " + id + " " + wrong + ": " + p.getState() + " exit "
                        + (p.hasExitCode() ? p.getExitCode() : "-") + " pid " + (p.hasPid() ? p.getPid() : "-"));
                expected.remove(id); // said once
            }
        }
        if (!checked) {
            expected.clear(); // a server that does not keep children forgets them: start over
            pids.clear();
            deleteUnanswered.clear();
            return List.of();
        }
        return problems;
    }

    /** What is wrong with {@code p} after a restart, or null. */
    private static String wrong(ProcessInfo p, int code, Integer pid) {
        boolean running = p.getState() == ProcessState.PROCESS_STATE_RUNNING
                || p.getState() == ProcessState.PROCESS_STATE_STARTING;
        if (code == LONG) {
            if (!running) {
                return "should still run";
            }
            return pid != null && p.hasPid() && p.getPid() != pid ? "runs under another pid" : null;
        }
        if (running) {
            return null;
        }
        if (p.getState() != ProcessState.PROCESS_STATE_EXITED || !p.hasExitCode() || p.getExitCode() != code) {
            return "should have exited with " + code;
        }
        return null;
    }

    @Override
    public synchronized String figures() {
        return "spawned " + spawned + ", states checked " + checks;
    }
}
