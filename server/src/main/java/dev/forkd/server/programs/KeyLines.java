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
            int dot = p.lastIndexOf('.');
            if (dot < 0) {
                return 0;
            }
            p = p.substring(0, dot);
        }
    }

    private static String unquote(String dotted) {
        StringBuilder out = new StringBuilder();
        for (String part : dotted.split("\\.")) {
            String s = part.strip();
            if (s.length() >= 2 && (s.startsWith("\"") && s.endsWith("\"") || s.startsWith("'") && s.endsWith("'"))) {
                s = s.substring(1, s.length() - 1);
            }
            if (!out.isEmpty()) {
                out.append('.');
            }
            out.append(s);
        }
        return out.toString();
    }
}
