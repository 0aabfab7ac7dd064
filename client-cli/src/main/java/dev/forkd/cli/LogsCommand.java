package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.WatchProcessRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logs", mixinStandardHelpOptions = true,
        description = {"Print a process's output.", "Its stdout goes to stdout, its stderr to stderr."})
final class LogsCommand extends ClientCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "ID", description = "Process id or name.")
    String id;

    @Option(names = {"-f", "--follow"}, description = "Keep printing until the process ends.")
    boolean follow;

    @Option(names = "--from", paramLabel = "OFFSET", defaultValue = "0",
            description = "Start at this byte offset of the output (default: from the start still kept).")
    long from;

    @Override
    int run(ForkdClient client, Invocation inv) throws Exception {
        if (from < 0) {
            throw new CliFailure("--from must be 0 or more, got " + from, ExitCodes.USAGE);
        }
        try {
            new OutputSink(inv).drain(client.processes().watch(WatchProcessRequest.newBuilder()
                    .setName(id).setFromOffset(from).setFollow(follow).build()));
        } catch (OutputSink.Closed e) {
            return RunCommand.BROKEN_PIPE; // `forkd logs -f x | head` ends when head does
        }
        return ExitCodes.OK;
    }
}
