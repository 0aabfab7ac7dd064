package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ReloadRequest;
import dev.forkd.v1.ReloadResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;

@Command(name = "reload", mixinStandardHelpOptions = true,
        description = {
            "Apply the server's config file again (like supervisorctl update, or SIGHUP to forkd serve).",
            "New programs start, removed ones stop, changed ones restart; unchanged ones are not touched.",
            "A file with an error is refused as a whole, with its line, and nothing changes."
        })
final class ReloadCommand extends ClientCommand {

    /** Stopping and starting programs can take their stop graces and start order. */
    static final Duration PROGRAM_DEADLINE = Duration.ofMinutes(10);

    @Override
    int run(ForkdClient client, Invocation inv) {
        ReloadResponse r = client.programs()
                .withDeadlineAfter(PROGRAM_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .reload(ReloadRequest.getDefaultInstance());
        if (options.json()) {
            Json.print(inv.out(), r);
        } else {
            line(inv, "started", r.getStartedList());
            line(inv, "stopped", r.getStoppedList());
            line(inv, "restarted", r.getRestartedList());
            line(inv, "unchanged", r.getUnchangedList());
            r.getFailedMap().forEach((name, why) -> inv.err().println("failed: " + name + ": " + why));
        }
        return r.getFailedCount() == 0 ? ExitCodes.OK : ExitCodes.ERROR;
    }

    private static void line(Invocation inv, String what, List<String> names) {
        if (!names.isEmpty()) {
            inv.out().println(what + ": " + String.join(" ", names));
        }
    }
}
