package dev.forkd.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * Writes what the distribution installs beside the command, from the commands' own picocli model,
 * at build time: bash (and zsh, through bashcompinit) completion, and one man page per command.
 *
 * <p>The man pages are troff written here rather than by picocli-codegen's ManPageGenerator: that
 * writes AsciiDoc, which needs Asciidoctor (Ruby) to become a man page, and neither this machine nor
 * a plain CI runner has it. Each page holds the command's own {@code --help}, so the two never differ.
 *
 * <p>Usage: {@code InstallDocs OUT_DIR}; writes {@code OUT/bash-completion/forkd} and
 * {@code OUT/man1/forkd*.1}.
 */
public final class InstallDocs {

    private InstallDocs() {}

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        CommandLine root = Main.commandLine(new Invocation(Map.of(), Path.of("/"),
                new ByteArrayInputStream(new byte[0]),
                new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8),
                new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8), false));
        Files.createDirectories(out.resolve("bash-completion"));
        Files.writeString(out.resolve("bash-completion/forkd"), AutoComplete.bash("forkd", root));
        Path man1 = Files.createDirectories(out.resolve("man1"));
        writeManPages(man1, root);
    }

    private static void writeManPages(Path dir, CommandLine command) throws IOException {
        String name = command.getCommandSpec().qualifiedName("-");
        Files.writeString(dir.resolve(name + ".1"), manPage(command, name));
        for (CommandLine sub : command.getSubcommands().values()) {
            // Hidden commands (forkd session hold) are forkd's own plumbing, not for users.
            if (!sub.getCommandSpec().name().equals("help") && !sub.getCommandSpec().usageMessage().hidden()) {
                writeManPages(dir, sub);
            }
        }
    }

    /** NAME, SYNOPSIS and the full usage text, preformatted as {@code --help} prints it. */
    static String manPage(CommandLine command, String name) {
        var spec = command.getCommandSpec();
        String summary = spec.usageMessage().description().length > 0 ? spec.usageMessage().description()[0] : name;
        String usage = command.getUsageMessage(CommandLine.Help.Ansi.OFF);
        StringBuilder page = new StringBuilder();
        page.append(".TH \"").append(name.toUpperCase(java.util.Locale.ROOT)).append("\" 1 \"")
                .append(LocalDate.now(ZoneOffset.UTC)).append("\" \"forkd\" \"forkd manual\"\n");
        page.append(".SH NAME\n").append(escape(name)).append(" \\- ").append(escape(summary)).append('\n');
        page.append(".SH DESCRIPTION\n.nf\n");
        usage.lines().forEach(l -> page.append(escape(l)).append('\n'));
        page.append(".fi\n");
        if (!command.getSubcommands().isEmpty()) {
            page.append(".SH SEE ALSO\n");
            page.append(String.join(", ", command.getSubcommands().values().stream()
                    .filter(s -> !s.getCommandSpec().name().equals("help") && !s.getCommandSpec().usageMessage().hidden())
                    .map(s -> "\\fB" + escape(s.getCommandSpec().qualifiedName("-")) + "\\fR(1)").toList()));
            page.append('\n');
        }
        return page.toString();
    }

    /** Backslashes and hyphens escaped for troff; a line starting with a dot or a quote is not a request. */
    private static String escape(String text) {
        String s = text.replace("\\", "\\e").replace("-", "\\-");
        return s.startsWith(".") || s.startsWith("'") ? "\\&" + s : s;
    }
}
