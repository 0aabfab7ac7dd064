package dev.forkd.server.auth;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkd.server.auth.Rights.ProcessAction;
import dev.forkd.server.error.ForkdException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The rights table as a plain function: every caller kind against every process action. */
class RightsTest {

    // p-1 spawned by the admin; p-2 by p-1; p-3 by p-2; p-9 by the admin (a stranger to p-1).
    private static final Lineage P1 = Lineage.root("p-1");
    private static final Lineage P2 = new Lineage("p-2", Optional.of(P1));
    private static final Lineage P3 = new Lineage("p-3", Optional.of(P2));
    private static final Lineage P9 = Lineage.root("p-9");
    private static final Caller CHILD_P1 = new Caller.Child("s-1", "p-1");
    private static final Caller CHILD_P2 = new Caller.Child("s-2", "p-2");

    @Test
    void theAdminMayDoEveryActionToEveryProcess() {
        for (ProcessAction a : ProcessAction.values()) {
            for (Lineage target : new Lineage[] {P1, P2, P3, P9}) {
                assertDoesNotThrow(() -> Rights.requireControl(Caller.ADMIN, a, target));
            }
        }
    }

    @Test
    void aChildMayDoEveryActionToItselfAndItsDescendantsRecursively() {
        for (ProcessAction a : ProcessAction.values()) {
            for (Lineage target : new Lineage[] {P1, P2, P3}) {
                assertDoesNotThrow(() -> Rights.requireControl(CHILD_P1, a, target), a + " " + target);
            }
        }
    }

    @Test
    void aChildMayDoNoActionToItsParentItsSiblingsOrStrangers() {
        for (ProcessAction a : ProcessAction.values()) {
            for (Lineage target : new Lineage[] {P1, P9}) {
                var e = assertThrows(ForkdException.PermissionDenied.class,
                        () -> Rights.requireControl(CHILD_P2, a, target));
                assertEquals("NOT_YOUR_PROCESS", e.reason());
                assertEquals(target.processId(), e.metadata().get("process"));
            }
        }
    }

    @Test
    void aLineageOutlivesItsAncestorsRecordsAndNeverMatchesAPrefix() {
        assertTrue(P3.isOrDescendsFrom("p-1"));
        assertFalse(new Lineage("p-10", Optional.empty()).isOrDescendsFrom("p-1"));
    }

    @Test
    void onlyTheAdminOrTheOwningChildMayActAsASession() {
        assertTrue(Rights.mayActAs(Caller.ADMIN, Optional.empty()));
        assertTrue(Rights.mayActAs(Caller.ADMIN, Optional.of("p-1")));
        assertTrue(Rights.mayActAs(CHILD_P1, Optional.of("p-1")));
        assertFalse(Rights.mayActAs(CHILD_P1, Optional.of("p-2")), "another child's session");
        assertFalse(Rights.mayActAs(CHILD_P1, Optional.empty()), "a session the admin opened");
    }
}
