package dev.forkd.server.programs;

import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/** What declared programs need of the process table: start, stop, and look at one process. */
public interface ProgramRunner {

    /** Starts instance {@code instanceName} of {@code program}; completes with its id once it runs. */
    CompletableFuture<String> start(Program program, String instanceName);

    /**
     * Stops a process with its program's stop signal (SIGKILL after the grace), and forgets it once
     * ended, so its name is free again; completes then. A process that is gone already completes at once.
     */
    CompletableFuture<Void> stop(String processId, Program program);

    /** Its pid while it runs. */
    OptionalInt runningPid(String processId);
}
