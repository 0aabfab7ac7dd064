package dev.forkd.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Help that wraps at sentence ends, never mid-sentence. A description is written as an array of
 * source lines, and picocli starts each element on a new line of output; an element that continues
 * the sentence before it is joined to it here, so picocli wraps the whole paragraph at the usage
 * width instead. The first element (the summary in the command list) stays on its own.
 */
final class HelpText {

    private HelpText() {}

    /** Joins continued sentences in the descriptions of {@code cl}, its options and its subcommands. */
    static void joinSentences(CommandLine cl) {
        CommandSpec spec = cl.getCommandSpec();
        String[] description = spec.usageMessage().description();
        if (description.length > 1) {
            List<String> joined = new ArrayList<>(List.of(description[0]));
            joined.addAll(paragraphs(List.of(description).subList(1, description.length)));
            spec.usageMessage().description(joined.toArray(String[]::new));
        }
        cl.getSubcommands().values().forEach(HelpText::joinSentences);
    }

    /** Lines with each one that does not end a sentence joined to the next. */
    static List<String> paragraphs(List<String> lines) {
        List<String> out = new ArrayList<>();
        StringBuilder open = null;
        for (String line : lines) {
            if (open == null) {
                open = new StringBuilder(line);
            } else {
                open.append(' ').append(line.strip());
            }
            if (endsSentence(line)) {
                out.add(open.toString());
                open = null;
            }
        }
        if (open != null) {
            out.add(open.toString());
        }
        return out;
    }

    private static boolean endsSentence(String line) {
        String s = line.strip();
        return s.isEmpty() || s.endsWith(".") || s.endsWith(":") || s.endsWith(".)") || s.endsWith("%n");
    }
}
