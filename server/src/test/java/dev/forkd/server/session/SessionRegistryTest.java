package dev.forkd.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A session's public id names it; only its credential acts as it. */
class SessionRegistryTest {

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final SessionRegistry sessions = new SessionRegistry(timers, 100);

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    @Test
    void theCredentialActsAsTheSessionAndThePublicIdDoesNot() {
        var opened = sessions.open("a", SessionRegistry.DEFAULT_TTL);
        assertEquals(Optional.of(new SessionRegistry.Identity(opened.id(), Optional.empty())),
                sessions.authenticate(opened.credential()));
        assertEquals(Optional.empty(), sessions.authenticate(opened.id()));
        assertFalse(opened.toString().contains(opened.credential()), "a credential must not reach a log by toString");
    }

    @Test
    void credentialsHaveAtLeast128RandomBitsAndAreAllDifferent() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            String c = sessions.open("a", SessionRegistry.DEFAULT_TTL).credential();
            byte[] secret = Base64.getUrlDecoder().decode(c.substring(SessionRegistry.CREDENTIAL_PREFIX.length()));
            assertTrue(secret.length * 8 >= 128, c);
            assertTrue(seen.add(c));
        }
    }

    @Test
    void endingASessionCountsTheProcessesItTerminatedNotTheLocksAndDeliveriesItReleased() {
        sessions.onEnd(id -> 3); // e.g. three locks released
        sessions.onEndTerminateProcesses(id -> 2); // two daemon processes terminated
        sessions.onEnd(id -> 5); // e.g. five unacked deliveries returned
        var opened = sessions.open("a", SessionRegistry.DEFAULT_TTL);
        assertEquals(2, sessions.end(opened.id()), "CloseSessionResponse.terminated_processes counts processes only");
        assertEquals(0, sessions.end(opened.id()), "an ended session terminates nothing again");
    }

    @Test
    void anEndedSessionsCredentialActsAsNothing() {
        var opened = sessions.open("a", SessionRegistry.DEFAULT_TTL);
        sessions.end(opened.id());
        assertEquals(Optional.empty(), sessions.authenticate(opened.credential()));
        assertEquals(Optional.empty(), sessions.authenticate(opened.credential() + "x"));
        assertEquals(Optional.empty(), sessions.authenticate(""));
    }

    @Test
    void aChildsSessionIsBoundToItsProcess() {
        var run = sessions.openUnleased("process p-1", "p-1");
        var opened = sessions.open("by the child", SessionRegistry.DEFAULT_TTL, Optional.of("p-1"));
        assertEquals(Optional.of("p-1"), sessions.authenticate(run.credential()).orElseThrow().boundProcess());
        assertEquals(Optional.of("p-1"), sessions.authenticate(opened.credential()).orElseThrow().boundProcess());
        assertNotEquals(run.id(), opened.id());
    }

    @Test
    void childCredentialsAreInFORKD_SESSIONAndFORKD_TOKENOnly() {
        var vars = ChildCredentials.variables("fksc_secret");
        assertEquals(java.util.Map.of("FORKD_SESSION", "fksc_secret", "FORKD_TOKEN", "fksc_secret"), vars);
    }
}
