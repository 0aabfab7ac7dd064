package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import dev.forkd.v1.RestartProcessRequest;
import dev.forkd.v1.RestartRequest;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code forkd restart ID...}: as {@code docker restart} and {@code supervisorctl restart} do. A
 * declared program's name restarts the program (its processes, in dependency order), as it always
 * did; anything else names a process, stopped as {@code kill} stops it and started again from its
 * spec under the same id.
 */
@Command(name = "restart", mixinStandardHelpOptions = true,
        description = {
            "Restart processes: stop each as kill does (SIGTERM, then SIGKILL after the grace period),",
            "then start it again from its spec under the same id, as a new run (its restart count goes up).",
            "An ended process is started again at once. A declared program's name restarts that program.",
            "Prints each process's id and new pid; exits 0 when all restarted, 1 if one was refused",
            "(each refusal on its own line), 127 if one could not start again."
        })
final class RestartCommand extends ClientCommand {

    /** A server-made process id: never a program's name to try first. */
    private static final Pattern PROCESS_ID = Pattern.compile("p-\\d+");
    /** The grace a restart waits for when none is given, before the call's own deadline. */
    private static final Duration DEFAULT_GRACE_BOUND = Duration.ofMinutes(5);
    /** From this grace on there is no SIGKILL, and no call deadline. */
    private static final Duration NO_LIMIT = DurationConverter.NO_LIMIT;

    @Parameters(paramLabel = "ID", arity = "1..*", description = "Process ids or names, or declared program names.")
    List<String> ids;

    @Option(names = "--grace", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Time between SIGTERM and SIGKILL (default: the process's stop grace); a huge one never sends SIGKILL.")
    Duration grace;

    @Override
    int run(ForkdClient client, Invocation inv) {
        return EachId.run(ids, inv, id -> {
            if (!PROCESS_ID.matcher(id).matches()) {
                try {
                    var programs = ProgramControlCommand.programs(client);
                    return ProgramControlCommand.print(inv, options.json(),
                            programs.restart(RestartRequest.newBuilder().setName(id).build()).getProcessesList());
                } catch (StatusRuntimeException e) {
                    String reason = ExitCodes.reason(e);
                    if (!reason.equals("DECLARED_PROGRAM_NOT_FOUND") && !reason.equals("NO_PROGRAM_CONFIG")) {
                        throw e;
                    }
                    // Not a program: a process's name.
                }
            }
            RestartProcessRequest.Builder request = RestartProcessRequest.newBuilder().setName(id);
            if (grace != null) {
                Duration g = grace.compareTo(NO_LIMIT) >= 0 ? NO_LIMIT : grace;
                request.setGrace(com.google.protobuf.Duration.newBuilder().setSeconds(g.getSeconds()).setNanos(g.getNano()));
            }
            var stub = client.processes();
            Duration bound = grace == null ? DEFAULT_GRACE_BOUND : grace;
            if (bound.compareTo(NO_LIMIT) < 0) {
                stub = stub.withDeadlineAfter(bound.plus(CALL_DEADLINE).toMillis(), TimeUnit.MILLISECONDS);
            }
            ProcessInfo p = stub.restart(request.build()).getProcess();
            if (options.json()) {
                Json.print(inv.out(), p);
            } else {
                inv.out().println(p.getState() == ProcessState.PROCESS_STATE_RUNNING
                        ? p.getId() + " pid " + p.getPid()
                        : ProcessText.summary(p));
            }
            return p.getState() == ProcessState.PROCESS_STATE_FAILED_TO_START ? ExitCodes.FAILED_TO_START : ExitCodes.OK;
        });
    }
}
