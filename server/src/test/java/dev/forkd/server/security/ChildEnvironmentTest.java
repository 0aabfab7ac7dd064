package dev.forkd.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.ForkdServer;
import dev.forkd.address.ForkdPaths;
import dev.forkd.address.ListenAddress;
import dev.forkd.server.config.ServerConfig;
import dev.forkd.server.process.ChildEnvironment;
import dev.forkd.v1.SpawnRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child's environment is what its spawner asked for plus forkd's own variables: nothing of the
 * server's own environment (this test JVM's, which the server runs in) reaches it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ChildEnvironmentTest {

    /** The launcher this server was started by (it need not exist: only its name is passed on). */
    private static final String CLI = "/opt/forkd-test/bin/forkd";

    @TempDir
    static Path tmp;

    private static ForkdServer server;
    private static ManagedChannel channel;
    private static final EpollEventLoopGroup group = new EpollEventLoopGroup(1);

    @BeforeAll
    static void start() throws Exception {
        Path socket = tmp.resolve("state/s.sock");
        server = ForkdServer.start(ServerConfig.defaults(new ForkdPaths(tmp.resolve("state")))
                .withListen(new ListenAddress.Unix(socket)).withCli(java.util.Optional.of(Path.of(CLI))));
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        if (server != null) {
            server.close();
        }
    }

    private static Map<String, String> envOf(SpawnRequest.Builder spawn) {
        // /usr/bin/env by path: a clean environment has no PATH to search.
        String out = Servers.outputOf(Servers.processes(channel), spawn.addArgv("/usr/bin/env").build());
        Map<String, String> env = new TreeMap<>();
        out.lines().forEach(l -> env.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        return env;
    }

    @Test
    void theServersOwnEnvironmentNeverReachesAChild() {
        Set<String> serverOnly = new TreeSet<>(System.getenv().keySet());
        serverOnly.removeIf(k -> k.equals("PATH") || k.startsWith("FORKD_"));
        assertFalse(serverOnly.isEmpty(), "the test JVM has variables of its own (HOME, ...)");

        Map<String, String> env = envOf(SpawnRequest.newBuilder().putEnv("ASKED_FOR", "yes"));
        for (String k : serverOnly) {
            assertFalse(env.containsKey(k), () -> "the server's " + k + " leaked into the child: " + env.keySet());
        }
        assertEquals("yes", env.get("ASKED_FOR"));
        assertEquals(ChildEnvironment.DEFAULT_PATH + ":/opt/forkd-test/bin", env.get("PATH"),
                "a spawn that sends no PATH gets the default, and forkd's own directory last");
        assertTrue(env.get("FORKD_ADDRESS").startsWith("unix:"), env::toString);
        for (String k : env.keySet()) {
            assertTrue(k.equals("ASKED_FOR") || k.equals("PATH") || k.startsWith("FORKD_"), () -> "unexpected " + k);
        }
    }

    @Test
    void aSpawnersPathWinsAndCleanEnvGetsNoDefault() {
        assertEquals("/opt/mine:/opt/forkd-test/bin", envOf(SpawnRequest.newBuilder().putEnv("PATH", "/opt/mine")).get("PATH"));
        Map<String, String> clean = envOf(SpawnRequest.newBuilder().setCleanEnv(true).putEnv("ONLY", "this"));
        assertFalse(clean.containsKey("PATH"), clean::toString);
        assertEquals("this", clean.get("ONLY"));
        assertEquals(CLI, clean.get("FORKD_CLI"), "forkd's own variables are there even with clean_env");
    }

    @Test
    void aChildFindsForkdOnItsPathOnceAndAfterTheSpawnersDirectories() {
        Map<String, String> env = envOf(SpawnRequest.newBuilder().putEnv("PATH", "/bin:/opt/forkd-test/bin:/usr/bin"));
        assertEquals("/bin:/opt/forkd-test/bin:/usr/bin", env.get("PATH"), "already there: not added twice");
        assertEquals(CLI, env.get("FORKD_CLI"));
    }
}
