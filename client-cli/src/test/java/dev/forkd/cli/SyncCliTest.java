package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.server.config.ListenAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** lock, sem, event, barrier, value and dict as a user types them, against a real {@code forkd serve}. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SyncCliTest {

    private RunningServer server;
    private Cli cli;
    private ForkdClient client;

    @BeforeAll
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void startServer() throws Exception {
        server = RunningServer.start();
        cli = Cli.against(server);
        client = ForkdClient.connect(new ListenAddress.Unix(server.socket), Optional.empty(), Optional.empty());
    }

    @AfterAll
    void stopServer() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static void oneLine(Cli.Result r, String contains) {
        assertTrue(r.err().startsWith("forkd: ") && r.err().indexOf('\n') == r.err().length() - 1, r::toString);
        assertTrue(r.err().contains(contains), r::toString);
    }

    @Test
    void valuesKeepTheirTypeAndAddAtomically() {
        assertEquals(0, cli.run("value", "set", "n", "5").code());
        Cli.Result add = cli.run("value", "add", "n", "2", "--times", "3");
        assertEquals("11\n", add.out(), add::toString);
        Cli.Result wrong = cli.run("value", "set", "n", "hello");
        assertEquals(1, wrong.code(), wrong::toString);
        oneLine(wrong, "holds int64");
        assertEquals("11\n", cli.run("value", "get", "n").out());
        Cli.Result missing = cli.run("value", "get", "nothing-here");
        assertEquals(1, missing.code());
        oneLine(missing, "\"nothing-here\" not found");
    }

    @Test
    void dictSetListGetRemove() {
        assertEquals(0, cli.run("dict", "set", "cfg", "b", "two", "a", "1").code());
        assertEquals("a\t1\nb\ttwo\n", cli.run("dict", "ls", "cfg").out());
        assertEquals("a\nb\n", cli.run("dict", "ls", "cfg", "--keys").out());
        assertEquals("two\n", cli.run("dict", "get", "cfg", "b").out());
        assertEquals(1, cli.run("dict", "get", "cfg", "zz").code());
        assertEquals(0, cli.run("dict", "rm", "cfg", "a").code());
        assertEquals(1, cli.run("dict", "rm", "cfg", "a").code());
        assertEquals(2, cli.run("dict", "set", "cfg", "lonely").code());
    }

    @Test
    void lockNeedsASessionAndPassesOnAsAbandonedWhenItsSessionEnds() {
        Cli.Result none = cli.run("lock", "acquire", "L");
        assertEquals(2, none.code(), none::toString);
        oneLine(none, "with-lock");
        ClientSession first = client.openSession("test", Duration.ofSeconds(10), Duration.ofSeconds(10));
        Cli.Result got = cli.run("lock", "acquire", "L", "--session", first.id());
        assertEquals(0, got.code(), got::toString);
        assertTrue(cli.run("lock", "status", "L").out().contains("held by session " + first.id()));
        try (ClientSession second = client.openSession("test", Duration.ofSeconds(10), Duration.ofSeconds(10))) {
            Cli.Result busy = cli.run("lock", "acquire", "L", "--session", second.id(), "--timeout", "0");
            assertEquals(124, busy.code(), busy::toString);
            Cli.Result foreign = cli.run("lock", "release", "L", "--session", second.id());
            assertEquals(1, foreign.code(), foreign::toString);
            oneLine(foreign, "only its holder may release it");
            first.close(); // its session ends holding the lock
            Cli.Result next = cli.run("lock", "acquire", "L", "--session", second.id(), "--timeout", "10s");
            assertEquals(0, next.code(), next::toString);
            assertTrue(next.out().contains("previous holder died holding it"), next::toString);
            assertEquals(0, cli.run("lock", "release", "L", "--session", second.id()).code());
        }
    }

    @Test
    void eventWaitTimesOutWith124AndPassesOnceSet() {
        assertEquals(124, cli.run("event", "wait", "go", "--timeout", "100ms").code());
        assertEquals(0, cli.run("event", "set", "go").code());
        assertEquals("go is set\n", cli.run("event", "wait", "go").out());
        assertEquals("go: event, set\n", cli.run("event", "status", "go").out());
    }

    @Test
    void aNameUsedAsAnotherKindIsRefusedNamingBoth() {
        assertEquals(0, cli.run("event", "set", "flag").code());
        Cli.Result r = cli.run("sem", "release", "flag");
        assertEquals(1, r.code(), r::toString);
        oneLine(r, "\"flag\" is an event, not a lock or semaphore");
        assertEquals("flag: event, set\n", cli.run("event", "status", "flag").out());
    }

    @Test
    void barrierOfOnePassesAtOnceAndAnAbortedOneIsBroken() {
        assertEquals("0\n", cli.run("barrier", "wait", "solo", "--parties", "1").out());
        assertEquals(0, cli.run("barrier", "abort", "solo").code());
        Cli.Result broken = cli.run("barrier", "wait", "solo");
        assertEquals(1, broken.code(), broken::toString);
        oneLine(broken, "is broken");
        assertEquals(0, cli.run("barrier", "reset", "solo").code());
        assertEquals("0\n", cli.run("barrier", "wait", "solo").out());
    }
}
