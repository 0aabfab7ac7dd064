package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The installed launcher ({@code dist/src/bin/forkd}) starts the commands that call the server
 * directly from the AOT cache trained on them, and names them itself (it runs before any Java).
 * Its list must be exactly the commands whose {@link ClientCommand#callsDirectly()} is true: one it
 * misses runs slower, one it names wrongly starts from a cache without grpc's classes.
 */
class DirectCommandsLauncherTest {

    @Test
    void theLauncherNamesExactlyTheCommandsThatCallDirectly() throws Exception {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        Invocation inv = new Invocation(Map.of(), Path.of("."), new ByteArrayInputStream(new byte[0]), sink, sink, false);
        Set<String> direct = new TreeSet<>();
        collect(Main.commandLine(inv), direct);
        assertTrue(direct.contains("ps"), direct::toString);

        String launcher = Files.readString(Path.of("../dist/src/bin/forkd"));
        Matcher line = Pattern.compile("(?m)^\\s*(.+)\\)\\s*cache=direct\\.aot\\s*;;").matcher(launcher);
        assertTrue(line.find(), "no 'cache=direct.aot' case in bin/forkd");
        Set<String> named = new TreeSet<>();
        for (String pattern : line.group(1).split("\\|")) {
            named.add(pattern.strip().replace("\"", ""));
        }
        assertEquals(direct, named, "bin/forkd's direct.aot commands and ClientCommand.callsDirectly() differ");
    }

    private static void collect(CommandLine cl, Set<String> into) {
        if (cl.getCommand() instanceof ClientCommand c && c.callsDirectly()) {
            into.add(cl.getCommandSpec().qualifiedName(" ").replaceFirst("^forkd ", ""));
        }
        cl.getSubcommands().values().forEach(sub -> collect(sub, into));
    }
}
