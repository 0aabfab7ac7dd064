package dev.forkd.cli;

import dev.forkd.client.ForkdClient;
import dev.forkd.v1.ListProcessesRequest;
import dev.forkd.v1.ListProcessesResponse;
import dev.forkd.v1.ProcessInfo;
import dev.forkd.v1.ProcessServiceGrpc;
import dev.forkd.v1.ProcessState;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ps", mixinStandardHelpOptions = true,
        description = {"List processes.", "The live ones by default; all with --all; or those in the given states."})
final class PsCommand extends ClientCommand {

    /** The label the server gives each process of a declared program: the program's name. */
    static final String PROGRAM_LABEL = "forkd.program";

    private static final List<ProcessState> LIVE = List.of(
            ProcessState.PROCESS_STATE_STARTING, ProcessState.PROCESS_STATE_RUNNING, ProcessState.PROCESS_STATE_BACKOFF);

    @Option(names = {"-a", "--all"}, description = "Ended processes too.")
    boolean all;

    @Option(names = "--state", paramLabel = "STATE", converter = StateConverter.class,
            completionCandidates = StateConverter.class,
            description = "Only processes in this state (repeatable): ${COMPLETION-CANDIDATES}.")
    List<ProcessState> states = new ArrayList<>();

    @Option(names = {"-l", "--label"}, paramLabel = "K=V", description = "Only processes with this label (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--name", paramLabel = "NAME", description = "Only the process with this name.")
    String name;

    @Option(names = "--programs", description = "Only the processes of programs declared in the config file.")
    boolean programs;

    @Override
    int run(ForkdClient client, Invocation inv) {
        ListProcessesRequest.Builder request = ListProcessesRequest.newBuilder()
                .addAllStates(!states.isEmpty() ? states : all ? List.of() : LIVE)
                .putAllLabels(labels);
        if (name != null) {
            request.setName(name);
        }
        List<ProcessInfo> processes = listAll(client.processes(), request);
        if (programs) {
            processes = processes.stream().filter(p -> p.containsLabels(PROGRAM_LABEL)).toList();
        }
        if (options.json()) {
            Json.print(inv.out(), ListProcessesResponse.newBuilder().addAllProcesses(processes).build());
        } else {
            table(inv.out(), processes, Instant.now());
        }
        return ExitCodes.OK;
    }

    /** Every page of a listing. */
    static List<ProcessInfo> listAll(ProcessServiceGrpc.ProcessServiceBlockingStub stub, ListProcessesRequest.Builder request) {
        List<ProcessInfo> all = new ArrayList<>();
        String token = "";
        do {
            ListProcessesResponse page = stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .list(request.setPageToken(token).build());
            all.addAll(page.getProcessesList());
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        return all;
    }

    static void table(PrintStream out, List<ProcessInfo> processes, Instant now) {
        List<String[]> rows = new ArrayList<>(processes.size() + 1);
        rows.add(new String[] {"ID", "NAME", "PID", "STATE", "EXIT", "RESTARTS", "AGE", "RUNTIME", "PROGRAM", "COMMAND"});
        for (ProcessInfo p : processes) {
            rows.add(new String[] {
                p.getId(),
                p.getName().isEmpty() ? "-" : p.getName(),
                p.getPid() == 0 ? "-" : Integer.toString(p.getPid()),
                ProcessText.state(p.getState()),
                ProcessText.exitColumn(p),
                Integer.toString(p.getRestartCount()),
                ProcessText.age(p, now),
                ProcessText.runtime(p, now),
                p.getLabelsOrDefault(PROGRAM_LABEL, "-"),
                ProcessText.command(p.getArgvList()),
            });
        }
        int[] width = new int[rows.getFirst().length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder line = new StringBuilder();
        for (String[] row : rows) {
            line.setLength(0);
            for (int i = 0; i < row.length; i++) {
                line.append(row[i]);
                if (i < row.length - 1) {
                    line.append(" ".repeat(width[i] - row[i].length() + 2));
                }
            }
            out.println(line);
        }
    }
}
