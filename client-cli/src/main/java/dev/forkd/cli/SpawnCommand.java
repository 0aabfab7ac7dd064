package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessState;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "spawn", mixinStandardHelpOptions = true,
        description = {"Start a command in the background and print its id.",
            "It inherits your environment (as a local command does) unless --clean-env."})
final class SpawnCommand extends ClientCommand {

    @Mixin
    SpawnOptions spawn;

    @Override
    int run(ForkdClient client, Invocation inv) {
        if (spawn.daemon && options.session(inv).isEmpty()) {
            // This command's own session would end as it exits, and take the process with it.
            throw new CliFailure("--daemon needs a session that outlives this command: pass --session"
                    + " (or set FORKD_SESSION), or use 'forkd run --daemon'", ExitCodes.USAGE);
        }
        ProcessInfo p = client.processes().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .spawn(spawn.toRequest(inv.cwd(), inv.env()).build()).getProcess();
        if (options.json()) {
            Json.print(inv.out(), p);
        } else {
            inv.out().println(p.getId());
        }
        if (p.getState() == ProcessState.PROCESS_STATE_FAILED_TO_START) {
            inv.err().println("forkd: " + ProcessText.summary(p));
            return ExitCodes.FAILED_TO_START;
        }
        return ExitCodes.OK;
    }
}
