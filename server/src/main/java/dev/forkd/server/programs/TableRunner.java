package dev.forkd.server.programs;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.process.ProcessSpec;
import dev.forkd.server.process.ProcessState;
import dev.forkd.server.process.ProcessTable;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/** Declared programs' processes in the server's process table, like any spawned process. */
public final class TableRunner implements ProgramRunner {

    private final ProcessTable table;
    private final Map<String, String> baseEnv;
    private final Map<String, String> forkdEnv;
    private final long outputLimit;

    /**
     * @param baseEnv what a program's environment starts from (never the server's own)
     * @param forkdEnv forkd's variables every child gets, read at each start
     */
    public TableRunner(ProcessTable table, Map<String, String> baseEnv, Map<String, String> forkdEnv, long outputLimit) {
        this.table = table;
        this.baseEnv = Map.copyOf(baseEnv);
        this.forkdEnv = forkdEnv;
        this.outputLimit = outputLimit;
    }

    @Override
    public CompletableFuture<String> start(Program p, String instanceName) {
        Map<String, String> env = new HashMap<>(baseEnv);
        env.putAll(p.env());
        env.putAll(forkdEnv);
        ProcessSpec spec = new ProcessSpec(p.argv(), env, p.cwd(), Optional.of(instanceName), p.labels(), false,
                false, Optional.empty(), p.restart(), outputLimit, p.stopGrace(), Optional.empty(), false, p.limits());
        CompletableFuture<String> started = new CompletableFuture<>();
        try {
            forgetEnded(instanceName);
            table.spawn(spec, s -> started.complete(s.id()), started::completeExceptionally);
        } catch (ForkdException e) {
            started.completeExceptionally(e);
        }
        return started;
    }

    /** A previous instance of this name that ended (e.g. FATAL) is forgotten, so the name is free. */
    private void forgetEnded(String name) {
        try {
            if (table.get(name).state().isFinal()) {
                table.delete(name);
            }
        } catch (ForkdException.NotFound e) {
            // none: the name is free
        }
    }

    @Override
    public CompletableFuture<Void> stop(String processId, Program p) {
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        try {
            table.signal(processId, new ProcessTable.SignalAction.Stop(p.stopSignal(), p.stopGrace()));
            table.join(processId, Optional.empty(), (s, timedOut) -> {
                try {
                    table.delete(processId);
                } catch (ForkdException e) {
                    // deleted meanwhile: what we wanted
                }
                stopped.complete(null);
            });
        } catch (ForkdException.NotFound e) {
            stopped.complete(null);
        }
        return stopped;
    }

    @Override
    public OptionalInt runningPid(String processId) {
        try {
            var s = table.get(processId);
            return s.state() instanceof ProcessState.Running && s.pid() > 0 ? OptionalInt.of(s.pid()) : OptionalInt.empty();
        } catch (ForkdException.NotFound e) {
            return OptionalInt.empty();
        }
    }
}
