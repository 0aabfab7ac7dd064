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

@Command(name = "close", mixinStandardHelpOptions = true, description = {"Close a pipe end: the other end reads what is buffered, then end-of-file."})
final class PipeCloseCommand extends ResourceCommand {

    @Override
    boolean printsJson() {
        return false;
    }

    @Parameters(paramLabel = "END", description = "The end to close, e.g. pipe-1.1.")
    String end;

    @Override
    int work(ForkdClient client, Invocation inv) {
        client.pipes().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .closeEnd(CloseEndRequest.newBuilder().setName(end).build());
        return ExitCodes.OK;
    }
}
