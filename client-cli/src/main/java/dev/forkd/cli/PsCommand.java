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

    @Option(names = {"-q", "--quiet"}, description = "Print only the ids, one a line (for xargs and $(...)).")
    boolean quiet;

    @Option(names = "--format", paramLabel = "FIELDS", split = ",",
            description = "Print only these fields, tab-separated, one process a line, no header;"
                    + " FIELDS is a comma-separated list of: id, name, pid, state, exit, restarts, age, runtime, program, command.")
    List<String> format = new ArrayList<>();

    @Override
    boolean callsDirectly() {
        return true;
    }

    @Override
    int run(ForkdClient client, Invocation inv) {
        if (quiet && !format.isEmpty()) {
            throw new CliFailure("-q and --format print different things: give one", ExitCodes.USAGE);
        }
        if ((quiet || !format.isEmpty()) && options.json()) {
            throw new CliFailure("--json prints every field: leave out -q and --format", ExitCodes.USAGE);
        }
        for (String field : format) {
            if (!HEADER.contains(field.strip().toUpperCase(java.util.Locale.ROOT))) {
                throw new CliFailure("--format: no field '" + field + "' (fields: "
                        + String.join(", ", HEADER.stream().map(h -> h.toLowerCase(java.util.Locale.ROOT)).toList())
                        + ")", ExitCodes.USAGE);
            }
        }
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
        } else if (quiet) {
            processes.forEach(p -> inv.out().println(p.getId()));
        } else if (!format.isEmpty()) {
            fields(inv.out(), processes, format, Instant.now());
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

    /** The table's columns, in order; {@code --format} names them in lower case. */
    private static final List<String> HEADER =
            List.of("ID", "NAME", "PID", "STATE", "EXIT", "RESTARTS", "AGE", "RUNTIME", "PROGRAM", "COMMAND");

    /** {@code --format}: the chosen fields of each process, tab-separated. */
    static void fields(PrintStream out, List<ProcessInfo> processes, List<String> fields, Instant now) {
        for (ProcessInfo p : processes) {
            String[] row = row(p, now);
            out.println(String.join("\t", fields.stream()
                    .map(f -> row[HEADER.indexOf(f.strip().toUpperCase(java.util.Locale.ROOT))]).toList()));
        }
    }

    private static String[] row(ProcessInfo p, Instant now) {
        return new String[] {
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
            };
    }

    static void table(PrintStream out, List<ProcessInfo> processes, Instant now) {
        List<String[]> rows = new ArrayList<>(processes.size() + 1);
        rows.add(HEADER.toArray(String[]::new));
        for (ProcessInfo p : processes) {
            rows.add(row(p, now));
        }
        Columns.print(out, rows);
    }
}
