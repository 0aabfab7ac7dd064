package dev.forkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.client.ClientSession;
import dev.forkd.client.ForkdClient;
import dev.forkd.address.ListenAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** lock, sem, event, barrier, value, array and dict as a user types them, against a real {@code forkd serve}. */
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
    void arrayCreateGetSetAndAddByIndexAndSlice() {
        Cli.Result create = cli.run("array", "create", "arr", "--type", "int", "--length", "4");
        assertEquals(0, create.code(), create::toString);
        assertEquals("0\n0\n0\n0\n", cli.run("array", "get", "arr").out());
        assertEquals(0, cli.run("array", "set", "arr", "1", "5", "6").code());
        assertEquals("6\n", cli.run("array", "get", "arr", "2").out());
        assertEquals("5\n6\n", cli.run("array", "get", "arr", "-3", "-1").out());
        assertEquals(0, cli.run("array", "set", "arr", "-1", "0").code());
        assertEquals("7\n", cli.run("array", "add", "arr", "2").out());
        assertEquals("2\n", cli.run("array", "add", "arr", "0", "2").out());
        Cli.Result past = cli.run("array", "set", "arr", "3", "1", "2");
        assertEquals(1, past.code(), past::toString);
        oneLine(past, "never changes");
        Cli.Result range = cli.run("array", "get", "arr", "4");
        assertEquals(1, range.code(), range::toString);
        oneLine(range, "out of range");
        Cli.Result mismatch = cli.run("array", "create", "arr", "--type", "double", "--length", "4");
        assertEquals(1, mismatch.code(), mismatch::toString);
        oneLine(mismatch, "4 int64");
        assertEquals(2, cli.run("array", "create", "arr2", "--type", "complex", "--length", "4").code());
        assertEquals(0, cli.run("array", "create", "fl", "--type", "double", "0.5", "1").code());
        assertEquals(0, cli.run("array", "set", "fl", "1", "2").code());
        assertEquals("0.5\n2.0\n", cli.run("array", "get", "fl").out());
        assertEquals(0, cli.run("array", "create", "arr", "--type", "int64", "--length", "4").code());
        assertEquals("2\n5\n7\n0\n", cli.run("array", "get", "arr").out());
    }

    @Test
    void lockNeedsASessionAndPassesOnAsAbandonedWhenItsSessionEnds() {
        Cli.Result none = cli.run("lock", "acquire", "L");
        assertEquals(2, none.code(), none::toString);
        oneLine(none, "with-lock");
        ClientSession first = client.openSession("test", Duration.ofSeconds(10), Duration.ofSeconds(10));
        Cli.Result got = cli.run("lock", "acquire", "L", "--session", first.credential());
        assertEquals(0, got.code(), got::toString);
        String status = cli.run("lock", "status", "L", "--json").out() + cli.run("lock", "status", "L").out();
        assertTrue(status.contains("held by session " + first.publicId()), status);
        assertFalse(status.contains(first.credential()), "status must show the public id only: " + status);
        // What status shows acts as nothing: another client cannot release the lock with it.
        Cli.Result stolen = cli.run("lock", "release", "L", "--session", first.publicId());
        assertEquals(ExitCodes.ERROR, stolen.code(), stolen::toString);
        assertTrue(stolen.err().contains("not the credential of an open session"), stolen::toString);
        assertFalse(stolen.err().contains("--token-file"), "a token does not fix a wrong session: " + stolen);
        assertTrue(cli.run("lock", "status", "L").out().contains("held by session " + first.publicId()));
        try (ClientSession second = client.openSession("test", Duration.ofSeconds(10), Duration.ofSeconds(10))) {
            Cli.Result busy = cli.run("lock", "acquire", "L", "--session", second.credential(), "--timeout", "0");
            assertEquals(124, busy.code(), busy::toString);
            Cli.Result foreign = cli.run("lock", "release", "L", "--session", second.credential());
            assertEquals(1, foreign.code(), foreign::toString);
            oneLine(foreign, "only its holder may release it");
            first.close(); // its session ends holding the lock
            Cli.Result next = cli.run("lock", "acquire", "L", "--session", second.credential(), "--timeout", "10s");
            assertEquals(0, next.code(), next::toString);
            assertTrue(next.out().contains("previous holder died holding it"), next::toString);
            assertEquals(0, cli.run("lock", "release", "L", "--session", second.credential()).code());
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
