package dev.forkd.server.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.forkd.server.pool.PoolLife.Closing;
import dev.forkd.server.pool.PoolLife.Ended;
import dev.forkd.server.pool.PoolLife.Event;
import dev.forkd.server.pool.PoolLife.Running;
import org.junit.jupiter.api.Test;

class PoolLifeTest {

    private static final Event CLOSE = new Event.Close();
    private static final Event TERMINATE = new Event.Terminate();
    private static final Event DRAINED = new Event.Drained();

    @Test
    void aClosedPoolEndsOnceDrainedAndATerminatedOneSaysSo() {
        assertEquals(new Closing(false), PoolLife.next(new Running(), CLOSE));
        assertEquals(new Ended(false), PoolLife.next(new Closing(false), DRAINED));
        assertEquals(new Closing(true), PoolLife.next(new Running(), TERMINATE));
        assertEquals(new Closing(true), PoolLife.next(new Closing(false), TERMINATE));
        assertEquals(new Ended(true), PoolLife.next(new Closing(true), DRAINED));
    }

    @Test
    void eventsThatChangeNothingLeaveItAsItIs() {
        assertEquals(new Running(), PoolLife.next(new Running(), DRAINED)); // a running pool never ends
        assertEquals(new Closing(true), PoolLife.next(new Closing(true), CLOSE)); // closing a terminated pool
        for (Event e : new Event[] {CLOSE, TERMINATE, DRAINED}) {
            assertEquals(new Ended(false), PoolLife.next(new Ended(false), e));
            assertEquals(new Ended(true), PoolLife.next(new Ended(true), e));
        }
    }
}
