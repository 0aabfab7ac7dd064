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

@Command(name = "create", mixinStandardHelpOptions = true, description = {"Make a pipe and print its two end ids, one per line.", "Duplex unless --one-way (then the first end receives, the second sends)."})
final class PipeCreateCommand extends ResourceCommand {

    @Parameters(paramLabel = "NAME", arity = "0..1", description = "Optional unique name.")
    String name;

    @Option(names = "--one-way", description = "Like Pipe(duplex=False): end 0 receives, end 1 sends.")
    boolean oneWay;

    @Override
    int work(ForkdClient client, Invocation inv) {
        CreatePipeResponse r = client.pipes().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .create(CreatePipeRequest.newBuilder().setName(name == null ? "" : name).setDuplex(!oneWay).build());
        if (options.json()) {
            Json.print(inv.out(), r);
        } else {
            r.getPipe().getEndsList().forEach(e -> inv.out().println(e.getId()));
        }
        return ExitCodes.OK;
    }
}
