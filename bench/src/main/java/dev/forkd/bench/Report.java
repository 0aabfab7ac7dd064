package dev.forkd.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The rows of a run as a table for people and as one JSON object per row for programs. */
public final class Report {

    private Report() {}

    /** A fixed-width text table; a figure reads {@code median [min–max]}. */
    public static String table(List<Row> rows) {
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[] {"scenario", "metric", "forkd median [min-max]", "peer", "peer median [min-max]",
            "ratio", "target", ""});
        for (Row r : rows) {
            lines.add(new String[] {
                r.scenario(), r.metric() + (r.unit().isEmpty() ? "" : " (" + r.unit() + ")"),
                figure(r.forkd()), r.peer().isEmpty() ? "-" : r.peer(),
                r.peer().isEmpty() ? "-" : figure(r.peerFigure()),
                r.ratio().map(x -> fmt(x) + "x").orElse("-"),
                target(r), r.meetsTarget().map(ok -> ok ? "ok" : "BELOW").orElse("")});
        }
        int[] width = new int[lines.getFirst().length];
        for (String[] l : lines) {
            for (int i = 0; i < l.length; i++) {
                width[i] = Math.max(width[i], l[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < lines.size(); j++) {
            String[] l = lines.get(j);
            for (int i = 0; i < l.length; i++) {
                sb.append(i == 0 ? "" : "  ").append(pad(l[i], width[i], i == 2 || i == 4 || i == 5));
            }
            sb.append('\n');
            if (j == 0) {
                for (int i = 0; i < width.length; i++) {
                    sb.append(i == 0 ? "" : "  ").append("-".repeat(width[i]));
                }
                sb.append('\n');
            }
        }
        // Why a figure is missing, once per reason, and notes, under the table.
        java.util.Set<String> said = new java.util.LinkedHashSet<>();
        for (Row r : rows) {
            String where = r.scenario() + (r.metric().equals("-") ? "" : " " + r.metric());
            why(r.forkd()).ifPresent(w -> said.add(r.scenario() + ": forkd " + w));
            if (!r.peer().isEmpty()) {
                why(r.peerFigure()).ifPresent(w -> said.add(r.scenario() + ": " + r.peer() + " " + w));
            }
            if (!r.note().isEmpty()) {
                said.add(where + ": " + r.note());
            }
        }
        said.forEach(line -> sb.append("- ").append(line).append('\n'));
        return sb.toString().replaceAll("[ ]+\n", "\n");
    }

    /** One JSON object: scenario, metric, unit, runs, forkd (median), min, max, peer, ratio, ... */
    public static String json(Row r) {
        StringBuilder sb = new StringBuilder("{");
        field(sb, "scenario", str(r.scenario()));
        field(sb, "metric", str(r.metric()));
        field(sb, "unit", str(r.unit()));
        field(sb, "better", str(r.better().name().toLowerCase(Locale.ROOT)));
        switch (r.forkd()) {
            case Outcome.Measured(Summary s) -> {
                field(sb, "status", str("ok"));
                field(sb, "runs", Integer.toString(s.runs()));
                field(sb, "forkd", num(s.median()));
                field(sb, "min", num(s.min()));
                field(sb, "max", num(s.max()));
            }
            case Outcome.NotAvailable(String why) -> {
                field(sb, "status", str("not available"));
                field(sb, "reason", str(why));
                field(sb, "forkd", "null");
            }
            case Outcome.Failed(String why) -> {
                field(sb, "status", str("failed"));
                field(sb, "reason", str(why));
                field(sb, "forkd", "null");
            }
        }
        if (r.peer().isEmpty()) {
            field(sb, "peer", "null");
        } else {
            field(sb, "peer", str(r.peer()));
            switch (r.peerFigure()) {
                case Outcome.Measured(Summary s) -> {
                    field(sb, "peer_median", num(s.median()));
                    field(sb, "peer_min", num(s.min()));
                    field(sb, "peer_max", num(s.max()));
                    field(sb, "peer_runs", Integer.toString(s.runs()));
                }
                case Outcome.NotAvailable(String why) -> field(sb, "peer_status", str("not available: " + why));
                case Outcome.Failed(String why) -> field(sb, "peer_status", str("failed: " + why));
            }
        }
        field(sb, "ratio", r.ratio().map(Report::num).orElse("null"));
        field(sb, "target", str(target(r)));
        field(sb, "meets_target", r.meetsTarget().map(Object::toString).orElse("null"));
        if (!r.note().isEmpty()) {
            field(sb, "note", str(r.note()));
        }
        return sb.append('}').toString();
    }

    static String figure(Outcome o) {
        return switch (o) {
            case Outcome.Measured(Summary s) -> s.runs() == 1 ? fmt(s.median())
                    : fmt(s.median()) + " [" + fmt(s.min()) + "-" + fmt(s.max()) + "]";
            case Outcome.NotAvailable(String why) -> "not available";
            case Outcome.Failed(String why) -> "FAILED";
        };
    }

    private static java.util.Optional<String> why(Outcome o) {
        return switch (o) {
            case Outcome.Measured m -> java.util.Optional.empty();
            case Outcome.NotAvailable(String why) -> java.util.Optional.of("not available: " + why);
            case Outcome.Failed(String why) -> java.util.Optional.of("FAILED: " + why);
        };
    }

    static String target(Row r) {
        return switch (r.target()) {
            case Target.Ratio(double x) -> ">= " + fmt(x) + "x";
            case Target.Limit(double l) -> (r.better() == Better.HIGHER ? ">= " : "<= ") + fmt(l);
            case Target.None() -> "";
        };
    }

    /** Three significant figures, thousands grouped: 1,860 / 0.62 / 12.3 / 7,012,345. */
    static String fmt(double x) {
        if (!Double.isFinite(x)) {
            return Double.toString(x);
        }
        double a = Math.abs(x);
        if (a >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", x);
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", x);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", x);
        }
        return String.format(Locale.ROOT, "%.2f", x);
    }

    private static String pad(String s, int w, boolean right) {
        String fill = " ".repeat(w - s.length());
        return right ? fill + s : s + fill;
    }

    private static void field(StringBuilder sb, String name, String value) {
        if (sb.length() > 1) {
            sb.append(',');
        }
        sb.append(str(name)).append(':').append(value);
    }

    private static String num(double x) {
        if (!Double.isFinite(x)) {
            return "null";
        }
        double rounded = Math.abs(x) >= 100 ? Math.rint(x) : Math.rint(x * 1000) / 1000;
        return rounded == Math.rint(rounded) && Math.abs(rounded) < 1e15
                ? Long.toString((long) rounded) : Double.toString(rounded);
    }

    static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
