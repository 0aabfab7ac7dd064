package dev.forkd.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.error.ForkdException;
import dev.forkd.server.store.SqliteStateStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Sessions kept in a real SQLite store: a new registry on the same store is a restarted server. */
@Timeout(60)
class SessionDurabilityTest {

    @TempDir
    Path dir;

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    private SqliteStateStore open() {
        return SqliteStateStore.open(dir.resolve("state.db"));
    }

    @Test
    void aKeptSessionIsResumedWithItsCredentialAndKeepsItsIdAndLease() throws Exception {
        SessionRegistry.Opened leased;
        SessionRegistry.Opened child;
        SessionRegistry.Opened closed;
        try (var store = open()) {
            var sessions = new SessionRegistry(timers, 100, store);
            leased = sessions.open("worker", Duration.ofSeconds(30));
            child = sessions.openUnleased("process p-1", "p-1");
            closed = sessions.open("done", Duration.ofSeconds(30));
            sessions.end(closed.id());
        }
        try (var store = open()) {
            var sessions = new SessionRegistry(timers, 100, store);
            sessions.startRestoredLeases(Set.of("p-1")::contains);
            assertEquals(2, sessions.count());
            assertEquals(Optional.of(new SessionRegistry.Identity(leased.id(), Optional.empty())),
                    sessions.authenticate(leased.credential()));
            assertEquals(Optional.of(new SessionRegistry.Identity(child.id(), Optional.of("p-1"))),
                    sessions.authenticate(child.credential()), "a child's session comes back with its process");
            assertEquals(Optional.empty(), sessions.authenticate(closed.credential()), "an ended session stays ended");
            var resumed = sessions.resume(leased.credential());
            assertEquals(leased.id(), resumed.id());
            assertEquals(Duration.ofSeconds(30), resumed.ttl());
            assertThrows(ForkdException.InvalidArgument.class, () -> sessions.resume(child.credential()));
            assertThrows(ForkdException.Unauthenticated.class, () -> sessions.resume(closed.credential()));
            var fresh = sessions.open("new", Duration.ofSeconds(30));
            assertNotEquals(leased.id(), fresh.id());
            assertNotEquals(child.id(), fresh.id());
            assertNotEquals(closed.id(), fresh.id(), "no id is given twice, kept or not");
        }
    }

    @Test
    void theStoreKeepsTheCredentialsHashNeverTheCredential() throws Exception {
        SessionRegistry.Opened opened;
        try (var store = open()) {
            opened = new SessionRegistry(timers, 100, store).open("a", Duration.ofSeconds(10));
        }
        String secret = opened.credential().substring(SessionRegistry.CREDENTIAL_PREFIX.length());
        for (Path file : Files.list(dir).toList()) {
            String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
            assertFalse(bytes.contains(secret), file + " holds the credential");
        }
    }

    @Test
    void aSessionNotResumedWithinItsTtlEndsAndItsHoldingsAreReleased() throws Exception {
        SessionRegistry.Opened gone;
        SessionRegistry.Opened back;
        SessionRegistry.Opened orphan;
        try (var store = open()) {
            var sessions = new SessionRegistry(timers, 100, store);
            gone = sessions.open("gone", Duration.ofMillis(300));
            back = sessions.open("back", Duration.ofMillis(300));
            orphan = sessions.openUnleased("process p-9", "p-9");
        }
        try (var store = open()) {
            var sessions = new SessionRegistry(timers, 100, store);
            Set<String> ended = ConcurrentHashMap.newKeySet();
            CountDownLatch goneEnded = new CountDownLatch(1);
            sessions.onEnd(id -> {
                ended.add(id);
                if (id.equals(gone.id())) {
                    goneEnded.countDown();
                }
                return 0;
            });
            sessions.resume(back.credential()); // before the leases start: it is then renewed as any session
            sessions.startRestoredLeases(p -> false); // p-9 did not survive
            assertTrue(ended.contains(orphan.id()), "a child's session whose process is gone ends at once");
            // Kept alive as its stream would, while the other one's lease runs out.
            var keepAlive = timers.scheduleAtFixedRate(() -> sessions.renew(back.id()), 0, 50, TimeUnit.MILLISECONDS);
            assertTrue(goneEnded.await(30, TimeUnit.SECONDS), "the session not resumed ends");
            keepAlive.cancel(false);
            assertTrue(sessions.exists(back.id()));
            assertFalse(ended.contains(back.id()));
        }
        try (var store = open()) {
            var sessions = new SessionRegistry(timers, 100, store);
            assertEquals(Optional.empty(), sessions.authenticate(gone.credential()), "its end was kept");
            assertTrue(sessions.authenticate(back.credential()).isPresent());
        }
    }
}
