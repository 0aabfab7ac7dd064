package dev.forkd.server.programs;

import java.util.HashMap;
import java.util.Map;

/**
 * The line each key of a TOML file is on, for error messages. Jackson's TOML reader keeps no
 * locations once it has parsed, so this reads the lines itself: table headers and {@code key =}
 * lines, enough to point at the key a rule is about (a key inside an inline table or a multi-line
 * value points at the line that starts it).
 */
final class KeyLines {

    private final Map<String, Integer> lines = new HashMap<>();

    KeyLines(String text) {
        String table = "";
        String[] all = text.split("\n", -1);
        for (int i = 0; i < all.length; i++) {
            String line = all[i].strip();
            if (line.startsWith("[")) {
                int end = line.indexOf(']');
                if (end > 0) {
                    table = unquote(line.substring(line.startsWith("[[") ? 2 : 1, end));
                    lines.putIfAbsent(table, i + 1);
                }
            } else {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    String key = unquote(line.substring(0, eq));
                    lines.putIfAbsent(table.isEmpty() ? key : table + "." + key, i + 1);
                }
            }
        }
    }

    /** The line of {@code path} (dotted), or of its nearest enclosing key; 0 if none is known. */
    int of(String path) {
        String p = path;
        while (true) {
            Integer n = lines.get(p);
            if (n != null) {
                return n;
            }
            // A table only named by its sub-tables ([a.b] declares a): the first of them.
            String prefix = p + ".";
            int first = lines.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                    .mapToInt(Map.Entry::getValue).min().orElse(0);
            if (first > 0) {
                return first;
            }
            int dot = p.lastIndexOf('.');
            if (dot < 0) {
                return 0;
            }
            p = p.substring(0, dot);
        }
    }

    /** A dotted key as plain dotted names: quotes gone, a dot inside quotes kept in its part. */
    private static String unquote(String dotted) {
        StringBuilder out = new StringBuilder();
        char quote = 0;
        for (char c : dotted.strip().toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    out.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c != ' ' && c != '\t') {
                out.append(c);
            }
        }
        return out.toString();
    }
}
