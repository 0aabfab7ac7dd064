package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProgramServiceGrpc;
import dev.forkd.v1.StartRequest;
import dev.forkd.v1.StartResponse;
import dev.forkd.v1.StopRequest;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code forkd start|stop NAME}: a declared program's processes, by the program's name ({@code restart}: {@link RestartCommand}). */
abstract class ProgramControlCommand extends ClientCommand {

    @Parameters(paramLabel = "NAME", description = "A program declared in the server's config file.")
    String name;

    static ProgramServiceGrpc.ProgramServiceBlockingStub programs(ForkdClient client) {
        return client.programs()
                .withDeadlineAfter(ReloadCommand.PROGRAM_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    static int print(Invocation inv, boolean json, List<ProcessInfo> processes) {
        if (json) {
            Json.print(inv.out(), StartResponse.newBuilder().addAllProcesses(processes).build());
        } else {
            processes.forEach(p -> inv.out().println(p.getId() + " " + p.getName() + " pid " + p.getPid()));
        }
        return ExitCodes.OK;
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Start a declared program's processes that are not running (once its dependencies run).")
    static final class Start extends ProgramControlCommand {
        @Override
        int run(ForkdClient client, Invocation inv) {
            return print(inv, options.json(), programs(client).start(StartRequest.newBuilder().setName(name).build())
                    .getProcessesList());
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stop a declared program's processes (its stop signal, then SIGKILL after its grace).")
    static final class Stop extends ProgramControlCommand {
        @Override
        int run(ForkdClient client, Invocation inv) {
            int n = programs(client).stop(StopRequest.newBuilder().setName(name).build()).getStopped();
            if (options.json()) {
                inv.out().println("{\"stopped\": " + n + "}");
            } else {
                inv.out().println("stopped " + n + " process" + (n == 1 ? "" : "es") + " of " + name);
            }
            return ExitCodes.OK;
        }
    }
}
