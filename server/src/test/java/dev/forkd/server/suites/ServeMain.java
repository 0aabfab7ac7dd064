package dev.forkd.server.suites;

import dev.forkd.server.ForkdServer;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;

/**
 * A supervisor in a JVM of its own, for the suites: its RSS, threads and fds are then the server's
 * alone, and if it runs out of heap it does not take the test JVM with it. Stops when stdin closes.
 *
 * <p>Arguments: state dir, agents, max processes. {@code -Dforkd.test.memoryBudget=BYTES} sets the
 * global memory budget where the server has one (found by reflection, so the suites compile before it).
 */
public final class ServeMain {

    private ServeMain() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        ServerConfig config = ServerConfig.defaults(new ForkdPaths(dir))
                .withListen(new ListenAddress.Unix(dir.resolve("s.sock")))
                .withAgents(Integer.parseInt(args[1]));
        config = withMaxProcesses(config, Integer.parseInt(args[2]));
        String budget = System.getProperty("forkd.test.memoryBudget", "");
        if (!budget.isEmpty()) {
            config = withMemoryBudget(config, Long.parseLong(budget));
        }
        try (ForkdServer server = ForkdServer.start(config)) {
            System.out.println("READY");
            System.out.flush();
            while (System.in.read() >= 0) {
                // runs until the test closes our stdin
            }
        }
        System.out.println("STOPPED");
        System.out.flush();
    }

    private static ServerConfig withMaxProcesses(ServerConfig c, int maxProcesses) {
        return withComponent(c, "maxProcesses", maxProcesses).orElseThrow();
    }

    private static ServerConfig withMemoryBudget(ServerConfig c, long bytes) {
        return withComponent(c, "memoryBudget", bytes).orElseGet(() -> {
            System.err.println("this server has no memory budget to set; running without one");
            return c;
        });
    }

    /**
     * A copy of the record with one component (found by name prefix) replaced. By reflection, so the
     * suites keep compiling when the config gains components.
     */
    private static java.util.Optional<ServerConfig> withComponent(ServerConfig c, String prefix, Object value) {
        RecordComponent[] parts = ServerConfig.class.getRecordComponents();
        Object[] values = new Object[parts.length];
        Class<?>[] types = new Class<?>[parts.length];
        boolean found = false;
        try {
            for (int i = 0; i < parts.length; i++) {
                types[i] = parts[i].getType();
                values[i] = parts[i].getAccessor().invoke(c);
                if (!found && parts[i].getName().startsWith(prefix)) {
                    values[i] = types[i] == int.class ? (Object) ((Number) value).intValue()
                            : (Object) ((Number) value).longValue();
                    found = true;
                }
            }
            if (!found) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(ServerConfig.class.getDeclaredConstructor(types).newInstance(values));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
