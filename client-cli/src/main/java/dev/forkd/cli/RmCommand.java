package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.DeleteProcessRequest;
import dev.forkd.v1.DeleteProcessResponse;
import dev.forkd.v1.JoinProcessRequest;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.SignalKind;
import dev.forkd.v1.SignalRequest;
import dev.forkd.v1.GetProcessRequest;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", mixinStandardHelpOptions = true,
        description = {"Forget an ended process and its output.", "With -f, kill it first if it still runs."})
final class RmCommand extends ClientCommand {

    @Parameters(paramLabel = "ID", arity = "1..*", description = "Process ids or names.")
    List<String> ids;

    @Option(names = {"-f", "--force"}, description = "Kill it first (SIGKILL to its group) and wait for it to end.")
    boolean force;

    @Override
    int run(ForkdClient client, Invocation inv) {
        return EachId.run(ids, inv, id -> remove(client, inv, id));
    }

    private int remove(ForkdClient client, Invocation inv, String id) {
        ProcessServiceGrpc.ProcessServiceBlockingStub stub = client.processes();
        if (force) {
            ProcessInfo p = deadline(stub).get(GetProcessRequest.newBuilder().setName(id).build()).getProcess();
            if (!ProcessText.ended(p)) {
                deadline(stub).signal(SignalRequest.newBuilder().setName(id).setKind(SignalKind.SIGNAL_KIND_KILL).build());
                deadline(stub).join(JoinProcessRequest.newBuilder().setName(id).build());
            }
        }
        DeleteProcessResponse deleted = deadline(stub).delete(DeleteProcessRequest.newBuilder().setName(id).build());
        if (options.json()) {
            Json.print(inv.out(), deleted);
        } else {
            inv.out().println(deleted.getId());
        }
        return ExitCodes.OK;
    }

    private static ProcessServiceGrpc.ProcessServiceBlockingStub deadline(ProcessServiceGrpc.ProcessServiceBlockingStub stub) {
        return stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }
}
