package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.MemberRefEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: the CLI's client side is built on the client library. Only {@code forkd serve} (its command,
 * config file and programs) may use the server's classes or the native code, and no command dials gRPC
 * past the library ({@code XxxGrpc.newBlockingStub(client.channel())}): read from the compiled classes'
 * constant pools, so a reference in a type, a call or a signature all count.
 */
class ClientSideDependenciesTest {

    /** The one command that runs the server, and what only it uses. */
    private static final Set<String> SERVE_SIDE = Set.of("ServeCommand", "ServeConfigFile", "ServePrograms");

    private static final Path CLASSES = classDirectory();

    /** The server, the agent and the FFM bindings: what a client must not ship. */
    private static final List<String> SERVER_PACKAGES = List.of("dev/forkd/server/", "dev/forkd/agent/", "dev/forkd/posix/");

    @Test
    void clientCommandsUseNoServerClass() throws Exception {
        Set<String> found = new TreeSet<>();
        for (Path file : cliClasses()) {
            if (SERVE_SIDE.contains(topLevelName(file))) {
                continue;
            }
            for (PoolEntry entry : ClassFile.of().parse(file).constantPool()) {
                if (entry instanceof Utf8Entry text) {
                    for (String forbidden : SERVER_PACKAGES) {
                        if (text.stringValue().contains(forbidden)) {
                            found.add(className(file) + " -> " + text.stringValue());
                        }
                    }
                }
            }
        }
        assertEquals(Set.of(), found);
    }

    @Test
    void commandsMakeNoStubsOfTheirOwn() throws Exception {
        Set<String> found = new TreeSet<>();
        for (Path file : cliClasses()) {
            for (PoolEntry entry : ClassFile.of().parse(file).constantPool()) {
                if (entry instanceof MemberRefEntry call) {
                    String owner = call.owner().asInternalName();
                    String name = call.name().stringValue();
                    boolean newStub = owner.endsWith("Grpc") && name.startsWith("new") && name.endsWith("Stub");
                    boolean rawChannel = owner.equals("dev/forkd/client/ForkdClient") && name.equals("channel");
                    if (newStub || rawChannel) {
                        found.add(className(file) + " -> " + owner + "." + name);
                    }
                }
            }
        }
        assertEquals(Set.of(), found);
    }

    @Test
    void theCheckSeesWhatServeUses() throws Exception {
        // Without this, a check that reads no class (or the wrong directory) would pass.
        Path serve = cliClasses().stream().filter(f -> className(f).equals("dev.forkd.cli.ServeCommand")).findFirst()
                .orElseThrow();
        List<String> server = new ArrayList<>();
        for (PoolEntry entry : ClassFile.of().parse(serve).constantPool()) {
            if (entry instanceof Utf8Entry text && text.stringValue().contains("dev/forkd/server/")) {
                server.add(text.stringValue());
            }
        }
        assertTrue(server.contains("dev/forkd/server/ForkdServer"), server::toString);
        int classes = cliClasses().size();
        assertTrue(classes > 50, () -> "only " + classes + " classes");
    }

    /** Every class the CLI module compiled, from its class directory. */
    private static List<Path> cliClasses() throws IOException {
        assertTrue(Files.isDirectory(CLASSES.resolve("dev/forkd/cli")), () -> CLASSES + " is not the CLI's class directory");
        try (Stream<Path> files = Files.walk(CLASSES)) {
            return files.filter(f -> f.toString().endsWith(".class")).sorted().toList();
        }
    }

    private static Path classDirectory() {
        try {
            return Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String className(Path file) {
        String name = CLASSES.relativize(file).toString();
        return name.substring(0, name.length() - ".class".length()).replace('/', '.');
    }

    private static String topLevelName(Path file) {
        String simple = file.getFileName().toString();
        int end = simple.indexOf('$');
        return end < 0 ? simple.substring(0, simple.length() - ".class".length()) : simple.substring(0, end);
    }
}
