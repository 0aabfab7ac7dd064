package dev.forkd.cli;

import com.google.protobuf.ByteString;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.*;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", mixinStandardHelpOptions = true, description = {"Delete pipes."})
final class PipeRmCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "PIPE", arity = "1..*", description = "Pipe ids or names (or an end id).")
    java.util.List<String> pipes;

    @Override
    int work(ForkdClient client, Invocation inv) {
        for (String p : pipes) {
            inv.out().println(client.pipes().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .delete(DeletePipeRequest.newBuilder().setName(p).build()).getId());
        }
        return ExitCodes.OK;
    }
}
