package dev.forkd.server.pool;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A per-task argv template, like GNU parallel's: {@code {}} is the item (or a tuple's arguments
 * joined by spaces), {@code {#}} the job's sequence number (the task index + 1: GNU parallel counts
 * jobs from 1, and scripts written for it name files {@code out-{#}}), {@code {1}}, {@code {2}}, ...
 * a tuple's arguments. One pass, so an item that itself contains {@code {}} is left as it is.
 */
final class Template {

    private Template() {}

    /** True if some argument has a placeholder for the item. */
    static boolean hasItemPlaceholder(List<String> argv) {
        for (String a : argv) {
            int i = 0;
            while ((i = a.indexOf('{', i)) >= 0) {
                int end = a.indexOf('}', i);
                if (end < 0) {
                    break;
                }
                String inner = a.substring(i + 1, end);
                if (inner.isEmpty() || inner.chars().allMatch(Character::isDigit)) {
                    return true;
                }
                i = end;
            }
        }
        return false;
    }

    /** With stdin_item the item goes to stdin, so only {@code {#}} (the sequence number) is replaced. */
    static List<String> substituteIndex(List<String> argv, long index) {
        String n = Long.toString(sequenceNumber(index));
        List<String> out = new ArrayList<>(argv.size());
        for (String a : argv) {
            out.add(a.replace("{#}", n));
        }
        return out;
    }

    /** GNU parallel's {@code {#}} for the task at {@code index} (from 0): its job number, from 1. */
    static long sequenceNumber(long index) {
        return index == Long.MAX_VALUE ? index : index + 1; // MAX_VALUE: the longest number, for argv limit checks
    }

    static List<String> substitute(List<String> argv, TaskInput input, long index) {
        String all = input.isTuple() ? String.join(" ", input.args())
                : new String(input.item(), StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>(argv.size());
        for (String a : argv) {
            StringBuilder b = new StringBuilder(a.length() + all.length());
            int i = 0;
            while (i < a.length()) {
                char c = a.charAt(i);
                int end = c == '{' ? a.indexOf('}', i) : -1;
                if (end > i) {
                    String inner = a.substring(i + 1, end);
                    if (inner.isEmpty()) {
                        b.append(all);
                        i = end + 1;
                        continue;
                    }
                    if (inner.equals("#")) {
                        b.append(sequenceNumber(index));
                        i = end + 1;
                        continue;
                    }
                    if (inner.length() <= 4 && inner.chars().allMatch(Character::isDigit)) {
                        int n = Integer.parseInt(inner);
                        if (n >= 1 && n <= input.args().size()) {
                            b.append(input.args().get(n - 1));
                        } else if (n == 1 && !input.isTuple()) {
                            b.append(all);
                        }
                        i = end + 1;
                        continue;
                    }
                }
                b.append(c);
                i++;
            }
            out.add(b.toString());
        }
        return out;
    }
}
