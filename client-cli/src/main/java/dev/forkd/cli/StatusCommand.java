package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ProcessInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {
            "Check the server and count its processes by state.",
            "Unlike other commands it never starts a server; it exits 3 if there is none."
        })
final class StatusCommand extends ClientCommand {

    @Override
    boolean callsDirectly() {
        return true;
    }

    @Override
    boolean autostarts() {
        return false; // a health check that starts what it checks would always say yes
    }

    @Override
    int run(ForkdClient client, Invocation inv) {
        String health;
        try {
            health = client.health().withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus().name();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
                throw e;
            }
            health = "UNKNOWN (no health service)";
        }
        List<ProcessInfo> processes = PsCommand.listAll(client.processes(), ListProcessesRequest.newBuilder());
        Map<String, Long> byState = processes.stream().collect(
                Collectors.groupingBy(p -> ProcessText.state(p.getState()), TreeMap::new, Collectors.counting()));
        if (options.json()) {
            // Written out, not as a protobuf Struct: a Struct's numbers are doubles and print as 14.0.
            String counts = byState.entrySet().stream()
                    .map(e -> Json.string(e.getKey()) + ": " + e.getValue())
                    .collect(Collectors.joining(", ", "{", "}"));
            inv.out().println("{\"address\": " + Json.string(client.address().toString())
                    + ", \"health\": " + Json.string(health)
                    + ", \"processes\": " + processes.size()
                    + ", \"byState\": " + counts + "}");
        } else {
            inv.out().println("address    " + client.address());
            inv.out().println("health     " + health);
            inv.out().println("processes  " + processes.size() + (byState.isEmpty() ? "" : " ("
                    + byState.entrySet().stream().map(e -> e.getValue() + " " + e.getKey())
                            .collect(Collectors.joining(", ")) + ")"));
        }
        return health.equals("SERVING") ? ExitCodes.OK : ExitCodes.ERROR;
    }
}
