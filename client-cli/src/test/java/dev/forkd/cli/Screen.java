package dev.forkd.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * What a terminal shows after some output: enough of one to see a progress line that is drawn over
 * (carriage return, erase to end of line, ESC [ K) or text written into the middle of it.
 */
final class Screen {

    private Screen() {}

    static List<String> lines(String output) {
        List<StringBuilder> lines = new ArrayList<>();
        lines.add(new StringBuilder());
        int col = 0;
        for (int i = 0; i < output.length(); i++) {
            char c = output.charAt(i);
            StringBuilder line = lines.getLast();
            if (c == '\r') {
                col = 0;
            } else if (c == '\n') {
                lines.add(new StringBuilder());
                col = 0;
            } else if (c == '\033' && output.startsWith("[K", i + 1)) {
                line.setLength(Math.min(col, line.length()));
                i += 2;
            } else if (c == '\033' && output.startsWith("[?", i + 1)) {
                int end = i + 3; // script(1) may switch modes (ESC [ ? 2004 h/l): no text
                while (end < output.length() && !Character.isLetter(output.charAt(end))) {
                    end++;
                }
                i = end;
            } else {
                while (line.length() < col) {
                    line.append(' ');
                }
                if (col < line.length()) {
                    line.setCharAt(col, c);
                } else {
                    line.append(c);
                }
                col++;
            }
        }
        if (lines.getLast().isEmpty()) {
            lines.removeLast();
        }
        return lines.stream().map(StringBuilder::toString).toList();
    }
}
