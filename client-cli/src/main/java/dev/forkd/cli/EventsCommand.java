package dev.forkd.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.forkd.client.ForkdClient;
import dev.forkd.v1.Event;
import dev.forkd.v1.EventKind;
import dev.forkd.v1.WatchEventsRequest;
import dev.forkd.v1.WatchEventsResponse;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "events", mixinStandardHelpOptions = true,
        description = {
            "Stream what happens in the server, like 'docker events': processes started, exited, restarting"
                    + " and fatal; agents registered and lost; locks granted (abandoned=true when the last holder"
                    + " died holding it); barriers broken; queues closed; pool tasks failed.",
            "One line per event (JSON Lines with --json). A watcher that falls behind is told how many events"
                    + " it missed. A child process sees only its own and its descendants' process events, and"
                    + " no agent events.",
            "Kinds: process-started, process-exited, process-restarting, process-fatal, agent-registered,"
                    + " agent-lost, lock-granted, barrier-broken, queue-closed, pool-task-failed."
        })
final class EventsCommand extends ClientCommand {

    private static final JsonFormat.Printer JSON_LINE =
            JsonFormat.printer().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

    @Option(names = "--filter", paramLabel = "FILTER", split = ",",
            description = "kind=KIND, label=KEY=VALUE or name=ID-OR-NAME; repeat or separate with commas."
                    + " Several kinds or names: any of them; several labels: all of them.")
    List<String> filters = List.of();

    @Option(names = "--count", paramLabel = "N",
            description = "Exit after N events (default: stream until interrupted).")
    Long count;

    @Override
    int run(ForkdClient client, Invocation inv) {
        WatchEventsRequest request = request();
        if (count != null && count < 1) {
            throw new CliFailure("--count must be at least 1, got " + count, ExitCodes.USAGE);
        }
        PrintStream out = inv.out();
        long seen = 0;
        Iterator<WatchEventsResponse> stream = client.events().watch(request);
        while (stream.hasNext()) {
            WatchEventsResponse r = stream.next();
            if (r.hasStarted()) {
                continue;
            }
            if (options.json()) {
                out.println(jsonLine(r));
            } else {
                out.println(r.hasEvent() ? text(r.getEvent())
                        : "missed " + r.getMissed().getCount() + " events (this watcher fell behind)");
            }
            out.flush();
            if (r.hasEvent() && count != null && ++seen >= count) {
                return ExitCodes.OK;
            }
        }
        return ExitCodes.OK;
    }

    /** One message on one line (JSON Lines), every field present, as {@code forkd ... --json} prints them. */
    private static String jsonLine(WatchEventsResponse r) {
        try {
            return JSON_LINE.print(r);
        } catch (InvalidProtocolBufferException e) {
            throw new CliFailure("cannot print as JSON: " + e.getMessage(), ExitCodes.ERROR, e);
        }
    }

    private WatchEventsRequest request() {
        WatchEventsRequest.Builder b = WatchEventsRequest.newBuilder();
        for (String f : filters) {
            int eq = f.indexOf('=');
            String key = eq < 0 ? f : f.substring(0, eq);
            String value = eq < 0 ? "" : f.substring(eq + 1);
            switch (key) {
                case "kind" -> b.addKinds(kind(value));
                case "name", "id" -> b.addNames(nonEmpty(f, value));
                case "label" -> {
                    int inner = value.indexOf('=');
                    if (inner <= 0) {
                        throw new CliFailure("--filter " + f + ": a label filter is label=KEY=VALUE", ExitCodes.USAGE);
                    }
                    b.putLabels(value.substring(0, inner), value.substring(inner + 1));
                }
                default -> throw new CliFailure("--filter " + f + ": expected kind=..., label=KEY=VALUE or name=...",
                        ExitCodes.USAGE);
            }
        }
        return b.build();
    }

    private static String nonEmpty(String filter, String value) {
        if (value.isEmpty()) {
            throw new CliFailure("--filter " + filter + ": the value is empty", ExitCodes.USAGE);
        }
        return value;
    }

    /** "process-exited" (or PROCESS_EXITED) as the proto kind. */
    private static EventKind kind(String word) {
        String name = "EVENT_KIND_" + word.toUpperCase(Locale.ROOT).replace('-', '_');
        for (EventKind k : EventKind.values()) {
            if (k != EventKind.UNRECOGNIZED && k != EventKind.EVENT_KIND_UNSPECIFIED && k.name().equals(name)) {
                return k;
            }
        }
        throw new CliFailure("--filter kind=" + word + ": no such kind (see 'forkd events --help')", ExitCodes.USAGE);
    }

    /** {@code TIME KIND ID (name=..., label.k=v, attribute=value, ...)}, like docker events. */
    static String text(Event e) {
        Instant time = Instant.ofEpochSecond(e.getTime().getSeconds(), e.getTime().getNanos());
        String kind = e.getKind().name().substring("EVENT_KIND_".length()).toLowerCase(Locale.ROOT).replace('_', '-');
        Map<String, String> details = new TreeMap<>(e.getAttributesMap());
        e.getLabelsMap().forEach((k, v) -> details.put("label." + k, v));
        if (e.hasDuration()) {
            details.put("duration", java.time.Duration.ofSeconds(e.getDuration().getSeconds(), e.getDuration().getNanos())
                    .toNanos() / 1e9 + "s");
        }
        if (!e.getSession().isEmpty()) {
            details.put("session", e.getSession());
        }
        List<String> parts = new java.util.ArrayList<>();
        if (!e.getName().isEmpty()) {
            parts.add("name=" + e.getName());
        }
        details.forEach((k, v) -> parts.add(k + "=" + v));
        return time + " " + kind + " " + e.getId() + (parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")");
    }
}
